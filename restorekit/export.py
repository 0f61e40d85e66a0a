"""Export a restorekit model to ONNX, for runtimes without PyTorch (onnxruntime, TensorRT, ...).

The graph takes

- ``image``: float32 ``[N, C, H, W]`` in [0, 1], with dynamic N, H and W;
- ``sigma``: float32 ``[N, 1, 1, 1]``, the noise level on the [0, 1] scale (25/255 for "25"),
  only for noise-conditioned models (``model.conditioned``);

and returns ``restored`` ``[N, C, H, W]``, for any H and W: the graph pads the image by
reflection at the bottom and right to the network's ``multiple`` (8 for FastUNet and U-Net)
and crops the result back, exactly as ``restorekit.denoise`` does, so a consumer never pads
by hand (images must be at least ``multiple`` pixels a side). ``multiple``, ``channels``
and ``conditioned`` are written into the file's ``metadata_props`` so that a consumer can
read them without this package.

Uses the TorchScript-based exporter (``dynamo=False``): it needs only ``onnx``, works offline
and handles dynamic sizes for every architecture here; the torch.export-based one needs
``onnxscript`` too. ``onnx`` and ``onnxruntime`` are optional: ``pip install 'restorekit[onnx]'``.

>>> export_onnx("fastunet.gray", "fastunet-gray.onnx")                 # doctest: +SKIP
>>> run_onnx("fastunet-gray.onnx", image, sigma=25 / 255)               # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from restorekit.atomic import atomic_path
from restorekit.errors import RestorekitError

DEFAULT_OPSET = 17
INPUT, SIGMA, OUTPUT = "image", "sigma", "restored"
_INSTALL = "pip install 'restorekit[onnx]'"


def require(module: str):
    """Import ``onnx`` or ``onnxruntime``, or raise one line that says how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # installed, but broken inside: show the real cause
            raise
        raise RestorekitError(f"ONNX support needs the {module} package: {_INSTALL}") from None


def export_onnx(model, path: str | os.PathLike, *, opset: int = DEFAULT_OPSET) -> Path:
    """Write ``model`` (a name, a path or a loaded restorekit ``nn.Module``) to ``path`` as ONNX.

    The file is written atomically (a temp file beside it, then renamed) and checked with
    ``onnx.checker``. Returns the path.
    """
    onnx = require("onnx")
    net = _as_module(model)
    conditioned = bool(getattr(net, "conditioned", False))
    channels = int(net.in_channels)
    multiple = int(getattr(net, "multiple", 1))
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise RestorekitError(f"{path}: the output file must end in .onnx")

    wrapper = _Padded(net, multiple, conditioned)
    side = max(2 * multiple, 16)  # example size only: the axes are declared dynamic below
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    example = (torch.rand(1, channels, side, side, device=device),)
    names = [INPUT]
    dynamic = {INPUT: {0: "batch", 2: "height", 3: "width"}, OUTPUT: {0: "batch", 2: "height", 3: "width"}}
    if conditioned:
        example += (torch.full((1, 1, 1, 1), 25 / 255, device=device),)
        names.append(SIGMA)
        dynamic[SIGMA] = {0: "batch"}

    was_training = net.training
    net.eval()
    try:
        with atomic_path(path) as tmp:
            with warnings.catch_warnings():
                # the TorchScript exporter's deprecation notices and tracer warnings about
                # shape arithmetic, which the dynamic axes make harmless
                warnings.simplefilter("ignore")
                with torch.no_grad():
                    torch.onnx.export(
                        wrapper, example, str(tmp), dynamo=False, opset_version=opset,
                        input_names=names, output_names=[OUTPUT], dynamic_axes=dynamic,
                    )
            proto = onnx.load(str(tmp))
            meta = {
                "multiple": str(multiple),
                "channels": str(channels),
                "conditioned": str(conditioned).lower(),
                "arch": str(getattr(net, "arch", type(net).__name__)),
                "arch_args": json.dumps(getattr(net, "arch_args", {}), sort_keys=True),
                "value_range": "image and restored in [0, 1]; sigma on the [0, 1] scale (25/255 for 25)",
                "note": f"any height and width of at least {multiple}: the graph pads to a multiple of {multiple}",
            }
            del proto.metadata_props[:]
            for key, value in meta.items():
                proto.metadata_props.add(key=key, value=value)
            proto.producer_name = "restorekit"
            onnx.checker.check_model(proto)
            onnx.save(proto, str(tmp))
    finally:
        net.train(was_training)
    return path


def read_onnx_meta(path: str | os.PathLike) -> dict[str, str]:
    """The ``metadata_props`` that :func:`export_onnx` wrote (all values are strings)."""
    onnx = require("onnx")
    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def run_onnx(path: str | os.PathLike, image: np.ndarray, sigma: float | None = None, session=None) -> np.ndarray:
    """Run an exported model with onnxruntime on ``[N, C, H, W]`` float32 of any H, W.

    ``sigma`` (the [0, 1] scale) is needed exactly when the model is conditioned.
    """
    if session is None:
        ort = require("onnxruntime")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {INPUT: np.ascontiguousarray(image, dtype=np.float32)}
    wanted = {i.name for i in session.get_inputs()}
    if SIGMA in wanted:
        if sigma is None:
            raise RestorekitError(f"{path}: this model is noise-conditioned; give sigma")
        feeds[SIGMA] = np.full((image.shape[0], 1, 1, 1), sigma, dtype=np.float32)
    return session.run([OUTPUT], feeds)[0]


def check_onnx(model, path: str | os.PathLike, sizes=((37, 29), (24, 57)), sigma: float = 25 / 255,
               seed: int = 0) -> float:
    """Largest ``|onnxruntime - PyTorch|`` over random images of ``sizes`` (any sizes: the
    graph pads; the second one as a batch of two, to exercise the dynamic batch axis).
    PyTorch's side is restorekit's own padded application (:mod:`restorekit.infer.tiling`).
    """
    from restorekit.infer.network import network_device
    from restorekit.infer.tiling import apply_padded

    net = _as_module(model)
    multiple = int(getattr(net, "multiple", 1))
    conditioned = bool(getattr(net, "conditioned", False))
    device = network_device(net)
    ort = require("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    was_training = net.training
    net.eval()
    try:
        for batch, (h, w) in enumerate(sizes, start=1):
            x = torch.rand(batch, net.in_channels, h, w, generator=gen)  # [N, C, H, W]
            s = torch.full((batch,), sigma, device=device)
            with torch.inference_mode():
                ref = apply_padded((lambda t: net(t, s)) if conditioned else net, x.to(device), multiple)
            got = run_onnx(path, x.numpy(), sigma if conditioned else None, session=session)
            worst = max(worst, float(np.abs(got - ref.float().cpu().numpy()).max()))
    finally:
        net.train(was_training)
    return worst


def _as_module(model) -> nn.Module:
    """A name, a path or a loaded restorekit module, through the one resolver of the package."""
    from restorekit.infer.network import resolve_network

    return resolve_network(model)


class _Padded(nn.Module):
    """``(image [N, C, H, W][, sigma [N, 1, 1, 1]]) -> restored [N, C, H, W]`` for any H, W.

    The padding is computed from the input's traced shape, so it stays dynamic in the graph:
    reflection at the bottom and right up to the next multiple, cropped back after.
    """

    def __init__(self, net: nn.Module, multiple: int, conditioned: bool):
        super().__init__()
        self.net, self.multiple, self.conditioned = net, multiple, conditioned

    def forward(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        h, w = image.shape[-2], image.shape[-1]
        m = self.multiple
        x = torch.nn.functional.pad(image, [0, (m - w % m) % m, 0, (m - h % m) % m], mode="reflect") if m > 1 else image
        y = self.net(x, sigma.reshape(-1)) if self.conditioned else self.net(x)  # models take sigma as [N]
        return y[..., :h, :w]
