"""Our own checkpoints: ``X.safetensors`` (the state dict) plus ``X.json`` (how to rebuild it).

The JSON sidecar holds ``arch`` and ``arch_args`` (enough for ``create_model`` to rebuild the
network) and whatever the trainer adds: training data, noise range, recipe, measured PSNR.
The same JSON is also embedded in the safetensors header, so a lone ``.safetensors`` file
that lost its sidecar still loads. Safetensors holds tensors only: loading never unpickles.
Weights may be stored in half precision (``dtype=torch.float16``: half the file, the model
still computes in float32); :func:`round_weights` first, so that what is measured is what ships.

>>> save_weights("runs/a/best.safetensors", model, {"noise": "gaussian:25"})   # doctest: +SKIP
>>> model = load_weights("runs/a/best.safetensors"); model.meta["noise"]      # doctest: +SKIP
'gaussian:25'
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from restorekit.atomic import atomic_path
from restorekit.errors import ModelLoadError
from restorekit.models.registry import create_model

_META_KEY = "restorekit"  # key of the embedded JSON in the safetensors header


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under a DistributedDataParallel or ``torch.compile`` wrapper."""
    while True:
        if hasattr(model, "_orig_mod"):  # torch.compile
            model = model._orig_mod
        elif isinstance(getattr(model, "module", None), nn.Module):  # (Distributed)DataParallel
            model = model.module
        else:
            return model


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def round_weights(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Round ``model``'s floating-point parameters and buffers to ``dtype`` and back, in place.

    The model keeps computing in its own precision; its weights become exactly what
    ``save_weights(..., dtype=dtype)`` stores, so a measurement after this is of the file.
    """
    state = unwrap(model).state_dict()
    with torch.no_grad():
        for key, rounded in _cast(state, dtype).items():
            state[key].copy_(rounded)
    return model


def _cast(tensors: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The floating-point tensors in ``dtype`` (the others as they are); refuses an overflow."""
    out = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    for key, value in out.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(f"{key} does not fit {dtype}: largest magnitude {tensors[key].abs().max():.3g}")
    return out


def save_weights(path: str | os.PathLike, model: nn.Module, meta: dict | None = None,
                 dtype: torch.dtype | None = None) -> Path:
    """Write ``path`` (.safetensors) and its ``.json`` sidecar atomically; return the path.

    ``model`` must come from ``create_model`` (it needs ``arch`` and ``arch_args``).
    ``dtype`` (e.g. ``torch.float16``) stores the floating-point tensors in that precision;
    loading casts them back to the model's. The sidecar records it as ``"stored_dtype"``.
    """
    from safetensors.torch import save_file

    model = unwrap(model)
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    if not hasattr(model, "arch"):
        raise ValueError("model has no 'arch': build it with restorekit.models.create_model")
    meta = dict(meta or {})
    clash = {"arch", "arch_args"} & set(meta)
    if clash:
        raise ValueError(f"meta may not set {sorted(clash)}: they come from the model")
    meta.pop("stored_dtype", None)  # describes the file written now, not one read before
    if dtype is not None:
        meta["stored_dtype"] = str(dtype).removeprefix("torch.")
    info = {"arch": model.arch, "arch_args": model.arch_args, **meta}
    text = json.dumps(info, indent=2, sort_keys=False)  # fails early if meta is not JSON
    # clone: contiguous CPU copies that share no storage (safetensors refuses shared tensors)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    if dtype is not None:
        tensors = _cast(tensors, dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: text})
    with atomic_path(sidecar_path(path)) as tmp:
        tmp.write_text(text + "\n")
    return path


def read_meta(path: str | os.PathLike) -> dict:
    """The JSON sidecar of ``path``, or the copy embedded in the file where the sidecar is missing."""
    from safetensors import safe_open  # outside the try: a broken install is no "corrupt file"

    path = Path(path)
    side = sidecar_path(path)
    try:
        if side.exists():
            info = json.loads(side.read_text())
        else:
            with safe_open(str(path), framework="pt") as f:
                embedded = (f.metadata() or {}).get(_META_KEY)
            if embedded is None:
                raise ModelLoadError(f"{path}: no {side.name} beside it and no embedded metadata")
            info = json.loads(embedded)
    except ModelLoadError:
        raise
    except Exception as exc:  # corrupt JSON or a file that is not safetensors
        raise ModelLoadError(f"{path}: cannot read metadata ({_first_line(exc)})") from None
    if not isinstance(info, dict) or "arch" not in info:
        raise ModelLoadError(f"{side}: metadata has no 'arch'")
    return info


def load_weights(path: str | os.PathLike) -> nn.Module:
    """Rebuild the model saved by ``save_weights`` and load its weights strictly (eval mode)."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"no such weights file: {path}")
    info = read_meta(path)
    try:
        model = create_model(info["arch"], **dict(info.get("arch_args") or {}))
    except ValueError as exc:
        raise ModelLoadError(f"{path}: cannot rebuild {info['arch']} ({_first_line(exc)})") from None
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise ModelLoadError(f"{path}: not a readable safetensors file ({_first_line(exc)})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path}: weights do not fit {info['arch']} {info.get('arch_args')} "
                             f"({_first_line(str(exc).split(':', 1)[-1])})") from None
    model.meta = info
    return model.eval()


def _first_line(exc: object) -> str:
    lines = [s.strip() for s in str(exc).strip().splitlines() if s.strip()]
    return lines[0] if lines else type(exc).__name__
