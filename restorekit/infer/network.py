"""Turn what a user names (None, a shipped name, a path, a module, a classical method) into
something that restores: the one place every caller resolves "a model".

- :func:`default_model`: the shipped model for gray or colour images;
- :func:`resolve_network`: None / name / path / ``nn.Module`` -> a network, loaded once per
  (file, device) and never moved when handed in as a module;
- :func:`as_restorer`: the same, or a classical method's name, -> a Restorer
  ``restorer(image, sigma) -> image`` (numpy in and out), for evaluate and plug-and-play.

>>> net = resolve_network(None, channels=3)            # fastunet.color   # doctest: +SKIP
>>> bm3d = as_restorer("bm3d")                                            # doctest: +SKIP
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from restorekit.errors import ModelLoadError, RestorekitError

DEFAULT_MODELS = {1: "fastunet.gray", 3: "fastunet.color"}
KIND = {1: "gray", 3: "colour"}
# A shipped model named here runs as the pair (restorekit.models.routed.LevelRouted): images
# told a level below the threshold (0-1 scale) go to the partner, trained on from the model
# over low levels only. The threshold was chosen on held-out training images (docs/models.md).
LOW_LEVEL_MODELS = {"fastunet.gray": ("fastunet.gray-low", 30 / 255)}


def default_model(channels: int) -> str:
    """The shipped model used when none is named: a CPU-fast noise-conditioned net."""
    try:
        return DEFAULT_MODELS[channels]
    except KeyError:
        raise RestorekitError(f"no default model for {channels}-channel images (expected 1 or 3)") from None


def check_device(device: str | None) -> None:
    """Refuse, in one line, a device this torch build cannot use (None: the model's own)."""
    if device is None:
        return
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise RestorekitError(f"device: unknown device {device!r} (use cpu, cuda or cuda:N)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RestorekitError(f"device {device!r}: no CUDA device available (use cpu)")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise RestorekitError(f"device: unsupported device {device!r} (use cpu, cuda or cuda:N)")


def network_device(net) -> Any:
    """The device a network's parameters are on (CPU for a network without any)."""
    import torch

    param = next(net.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def resolve_network(model: Any = None, channels: int | None = None, device: str | None = None):
    """``model`` as a restorekit network (``in_channels``, ``multiple``, ``conditioned``).

    Args:
        model: None (the default model for ``channels``), a shipped name, a path
            (``.safetensors``, run folder, foreign ``.pth``) or a loaded ``nn.Module``. A
            name in :data:`LOW_LEVEL_MODELS` (the default gray model) gives the pair
            (:class:`~restorekit.models.routed.LevelRouted`) where its partner ships.
        channels: the images' channels; checked against the network when given.
        device: where a loaded model goes (None: CPU). A module handed in stays where it is:
            ``device`` must then be None or its own device.
    """
    from torch import nn

    check_device(device)
    if model is None:
        if channels is None:
            raise RestorekitError("no model named and no channels to choose the default by")
        model = default_model(channels)
    if isinstance(model, nn.Module):
        if not hasattr(model, "in_channels"):
            raise ModelLoadError("model has no 'in_channels': build it with restorekit.models.create_model")
        if device is not None and network_device(model) != _as_device(device):
            raise RestorekitError(f"the model is on {network_device(model)}, not {device}: move it yourself "
                                  "(model.to(device)) or pass device=None")
        net = model
    elif isinstance(model, (str, os.PathLike)):
        text = os.fspath(model).strip()
        net = _load(text, device or "cpu")
        if text in LOW_LEVEL_MODELS:
            net = _with_low_levels(net, *LOW_LEVEL_MODELS[text], device or "cpu")
    else:
        raise RestorekitError(f"model must be a name, a path or an nn.Module, got {type(model).__name__}")
    if channels is not None and net.in_channels != channels:
        raise RestorekitError(f"model expects {KIND.get(net.in_channels, net.in_channels)} images, "
                              f"got a {KIND.get(channels, channels)} image ({channels} channels)")
    return net


def _with_low_levels(net, low_name: str, below: float, device: str):
    """``net`` behind a LevelRouted with its shipped low-level partner (``net`` if none ships)."""
    from restorekit.models import list_models
    from restorekit.models.routed import LevelRouted

    if low_name not in list_models():
        return net
    return LevelRouted(_load(low_name, device), net, below, low_name=low_name)


def _as_device(device: str):
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return dev


def _load(text: str, device: str):
    from restorekit.models import resolve_model_path

    path = resolve_model_path(text)  # the one look-up order: shipped name, then path
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns, device)


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, device: str):
    # Keyed by the file's modification time too, so a retrained run is loaded anew.
    from restorekit.models import load_model

    return load_model(path, device=device)


def model_label(source: Any) -> str:
    """A short name for reports: a shipped name as is, a run folder's name, a file's stem."""
    if not isinstance(source, (str, os.PathLike)):
        return type(source).__name__
    path = Path(source)
    if path.exists():
        if path.is_dir():
            return path.resolve().name
        if path.stem in ("best", "last", "model"):
            return f"{path.resolve().parent.name}/{path.stem}"
        return path.stem
    return os.fspath(source)


def ensemble_name(name: str, ensemble: int) -> str:
    """A report's name for a method run as a self-ensemble: ``fastunet.gray x8``."""
    return f"{name} x{ensemble}" if ensemble > 1 else name


class AutoRestorer:
    """``restorekit.denoise`` with no model as a Restorer: given a sigma, the shipped Gaussian
    model; blind, the noise identified first (:mod:`restorekit.infer.auto`). So
    ``restorekit evaluate --method auto`` scores what ``restorekit denoise`` does by default."""

    name = "auto"

    def __init__(self, *, ensemble: int = 1):
        self.ensemble = ensemble
        self.name = ensemble_name(AutoRestorer.name, ensemble)

    def __call__(self, image, sigma: float | None):
        from restorekit.infer.restore import denoise

        return denoise(image, None, sigma, ensemble=self.ensemble)


class NetworkRestorer:
    """A network behind the Restorer protocol: ``restorer(image, sigma) -> image``.

    Each call goes through :func:`restorekit.infer.restore.denoise`, so evaluate and
    plug-and-play score exactly what users get. With ``per_channel``, a gray network serves
    colour images channel by channel (plug-and-play priors).
    """

    def __init__(self, net, name: str, *, per_channel: bool = False, ensemble: int = 1):
        self.net, self.name, self.per_channel, self.ensemble = net, name, per_channel, ensemble
        self.conditioned = bool(getattr(net, "conditioned", False))

    def __call__(self, image, sigma: float | None):
        import numpy as np

        from restorekit.infer.restore import denoise

        if self.per_channel and image.ndim == 3 and image.shape[2] == 3 and self.net.in_channels == 1:
            return np.stack([denoise(image[:, :, c], self.net, sigma, ensemble=self.ensemble) for c in range(3)],
                            axis=2)
        return denoise(image, self.net, sigma, ensemble=self.ensemble)

    def __repr__(self) -> str:
        return f"NetworkRestorer({self.name!r})"


def as_restorer(method: Any, channels: int | None = None, *, per_channel: bool = False, ensemble: int = 1):
    """A classical method's name, or anything :func:`resolve_network` takes, -> a Restorer.

    Names are looked up in one order: ``auto`` (what ``restorekit denoise`` does with no
    model), a classical method (``bm3d``, ``nlm``, ...), then a model (a shipped name or a
    path). ``model:NAME|PATH`` forces a model. A callable that is
    not a module is taken as a Restorer already. ``ensemble`` (networks and ``auto``): that
    many flips/rotations averaged (:func:`~restorekit.infer.apply.run_network`); the name
    then ends in ``xN``.
    """
    from torch import nn

    from restorekit.infer.apply import check_ensemble

    ensemble = check_ensemble(ensemble)

    if isinstance(method, (str, os.PathLike)):
        text = os.fspath(method).strip()
        if not text:
            raise RestorekitError("empty method name")
        if text == AutoRestorer.name:
            return AutoRestorer(ensemble=ensemble)
        if text.startswith("model:"):
            text = text[len("model:"):].strip()
            if not text:
                raise RestorekitError("model: needs a name or a path, e.g. model:runs/dncnn25")
        else:
            from restorekit.classical import get_method, list_methods

            if text in list_methods():
                return get_method(text)
        return NetworkRestorer(resolve_network(text), ensemble_name(model_label(text), ensemble),
                               per_channel=per_channel, ensemble=ensemble)
    if method is None or isinstance(method, nn.Module):
        # per_channel: a gray network handed in may serve colour images, so no channel check
        net = resolve_network(method, None if (per_channel and method is not None) else channels)
        name = model_label(method) if method is not None else default_model(channels)
        return NetworkRestorer(net, ensemble_name(name, ensemble), per_channel=per_channel, ensemble=ensemble)
    if callable(method):
        return method
    raise RestorekitError(f"a method must be a name, a path, an nn.Module or a restorer, got {type(method).__name__}")
