"""Import published DnCNN checkpoints that were not written by restorekit.

Two layouts are recognised from the keys of the state dict:

- **KAIR** (Zhang's toolbox, ``model_zoo/dncnn_25.pth``): ``model.0.weight`` ... ``model.32.bias``;
  batch norm has been merged into the convs, so every conv has a bias and there is no BN.
- **DataParallel / SaoYan** (``DnCNN-PyTorch``): ``module.dncnn.N.weight`` and BN's
  ``running_mean`` / ``running_var``; convs have no bias. ``module.`` is stripped.

Depth, width and channels are read from the tensors; our ``dncnn`` is built with matching
options. Its ``body`` uses the same ``nn.Sequential`` indices, so the import is a rename of the
prefix followed by a strict shape check. Files are read with ``weights_only=True``: a
checkpoint is never unpickled as arbitrary code.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from restorekit.errors import ModelLoadError
from restorekit.models.registry import create_model

log = logging.getLogger(__name__)

# layout name -> (regex on the key after stripping "module.", prefix to replace by "body.")
_LAYOUTS = {
    "kair": (re.compile(r"model\.(\d+)\.(weight|bias)"), "model."),
    "dataparallel": (re.compile(r"dncnn\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)"), "dncnn."),
    "restorekit": (re.compile(r"body\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)"), "body."),
}
# containers that training scripts wrap a state dict in
_WRAPPERS = ("state_dict", "model_state_dict", "params", "params_ema", "model")


def load_foreign(path: str | os.PathLike) -> nn.Module:
    """Load a foreign DnCNN ``.pth``/``.pt`` file as our ``dncnn`` (eval mode, with ``.meta``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"no such checkpoint: {path}")
    try:
        with warnings.catch_warnings():  # torch's advice on pickle protocols is not for our users
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever the unpickler raises on a foreign file
        # torch's message advises weights_only=False, i.e. running the file's code: never
        # repeat that advice; say what the file is not. (--debug shows torch's own words.)
        text = str(exc)
        if "weights_only" in text or "Unsupported global" in text:
            reason = "it holds Python objects beyond tensors, which restorekit does not unpickle for safety"
        elif isinstance(exc, (KeyError, EOFError, pickle.UnpicklingError, RuntimeError)):
            reason = "not a PyTorch checkpoint (the file is damaged or of another kind)"
        else:
            reason = next((s for s in text.splitlines() if s.strip()), type(exc).__name__).strip()[:200]
        raise ModelLoadError(f"{path}: not a loadable PyTorch state dict: {reason}") from exc
    model = from_state_dict(obj, source=str(path))
    return model


def from_state_dict(obj: object, source: str = "state dict") -> nn.Module:
    """Build and load our ``dncnn`` from a foreign state dict (see the module docstring)."""
    state = _unwrap(obj, source)
    layout, state = detect_layout(state, source)
    args = infer_dncnn_args(state, source)
    model = create_model("dncnn", **args)
    _load_checked(model, state, source)
    model.meta = {"source": source, "layout": layout, "foreign": True}
    return model.eval()


def _unwrap(obj: object, source: str) -> dict[str, torch.Tensor]:
    for _ in range(2):  # e.g. {"params": {...}} or {"state_dict": {...}}
        if isinstance(obj, dict) and not _is_state_dict(obj):
            inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict) or not obj or not _is_state_dict(obj):
        raise ModelLoadError(f"{source}: not a state dict of tensors")
    return dict(obj)


def _is_state_dict(d: dict) -> bool:
    return bool(d) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in d.items())


def detect_layout(state: dict[str, torch.Tensor], source: str = "state dict") -> tuple[str, dict[str, torch.Tensor]]:
    """Name the layout and return the state dict renamed to our ``body.N.*`` keys."""
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    for name, (pattern, prefix) in _LAYOUTS.items():
        if all(pattern.fullmatch(k) for k in state):
            return name, {"body." + k[len(prefix):]: v for k, v in state.items()}
    sample = ", ".join(sorted(state)[:3])
    raise ModelLoadError(f"{source}: unrecognised checkpoint layout (keys like {sample}); "
                         "expected a DnCNN from KAIR (model.N.*) or DataParallel (module.dncnn.N.*)")


def infer_dncnn_args(state: dict[str, torch.Tensor], source: str = "state dict") -> dict:
    """``create_model('dncnn', ...)`` arguments read off the tensors of a ``body.N.*`` state dict."""
    index = lambda k: int(k.split(".")[1])  # noqa: E731
    convs = sorted((index(k) for k, v in state.items() if k.endswith(".weight") and v.dim() == 4))
    if len(convs) < 3:
        raise ModelLoadError(f"{source}: found {len(convs)} conv layers; a DnCNN has at least 3")
    first, last = state[f"body.{convs[0]}.weight"], state[f"body.{convs[-1]}.weight"]
    channels, features = int(first.shape[1]), int(first.shape[0])
    if channels not in (1, 3) or int(last.shape[0]) != channels:
        raise ModelLoadError(f"{source}: conv shapes {list(first.shape)} ... {list(last.shape)} "
                             "are not a DnCNN for 1 or 3 channels")
    return {
        "channels": channels,
        "depth": len(convs),
        "features": features,
        "batchnorm": any(k.endswith(".running_mean") for k in state),
        "bias": any(f"body.{i}.bias" in state for i in convs),
    }


def _load_checked(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load strictly, naming missing, unexpected and mis-shaped keys in one line."""
    own = model.state_dict()
    # Checkpoints from PyTorch < 0.4 have no BN step counter; it does not affect inference.
    for k in own:
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = torch.zeros_like(own[k])
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [f"{k} {list(state[k].shape)} vs {list(own[k].shape)}"
             for k in sorted(set(own) & set(state)) if state[k].shape != own[k].shape]
    if missing:
        log.warning("%s: missing keys: %s", source, ", ".join(missing))
    if unexpected:
        log.warning("%s: unexpected keys: %s", source, ", ".join(unexpected))
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"shape mismatch {wrong[0]}" if wrong else ""]
        raise ModelLoadError(f"{source}: checkpoint does not fit dncnn "
                             f"{model.arch_args}: {'; '.join(p for p in parts if p)}")
    model.load_state_dict(state, strict=True)
