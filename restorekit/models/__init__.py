"""Denoising networks: the registry, our checkpoints, and import of foreign DnCNN weights.

>>> from restorekit.models import create_model, load_model, list_models    # doctest: +SKIP
>>> net = create_model("unet", channels=3)          # random weights           # doctest: +SKIP
>>> net = load_model("runs/dncnn25")                # a run's best checkpoint  # doctest: +SKIP
>>> net = load_model("dncnn_25.pth")                # a KAIR / DataParallel DnCNN  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from restorekit.errors import ModelLoadError
from restorekit.models.registry import create_model, list_architectures, register_model

# The architectures: importing each file runs its @register_model decorators. A new
# architecture file is added here (tests/test_models.py checks that none is left out).
from restorekit.models import dae, dncnn, fastunet, unet  # noqa: F401

__all__ = ["register_model", "create_model", "list_architectures", "list_models", "load_model"]

_FOREIGN_SUFFIXES = (".pth", ".pt")


def _weights_dir() -> Path:
    # restorekit/weights/ holds the shipped pretrained models (package data).
    return Path(__file__).resolve().parent.parent / "weights"


def list_models() -> list[str]:
    """Names of the shipped pretrained models (``restorekit/weights/NAME.safetensors``)."""
    return sorted(p.name[: -len(".safetensors")] for p in _weights_dir().glob("*.safetensors"))


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """The file that ``load_model`` would read for ``name_or_path`` (no loading)."""
    text = os.fspath(name_or_path)
    shipped = _weights_dir() / f"{text}.safetensors"
    if "/" not in text and os.sep not in text and shipped.is_file():
        return shipped
    path = Path(text).expanduser()
    if path.is_dir():
        best = path / "best.safetensors"
        if not best.is_file():
            raise ModelLoadError(f"{path} is a directory without best.safetensors (not a training run?)")
        return best
    if path.is_file():
        if path.suffix == ".safetensors" or path.suffix in _FOREIGN_SUFFIXES:
            return path
        raise ModelLoadError(f"{path}: unsupported model file (expected .safetensors, .pth or .pt)")
    known = ", ".join(list_models()) or "none shipped yet"
    raise ModelLoadError(f"unknown model {text!r}: no such file, and not a shipped model ({known})")


def load_model(name_or_path: str | os.PathLike, device: str = "cpu") -> nn.Module:
    """Load a model in eval mode: a shipped name, a ``.safetensors`` file, a training run
    directory (its ``best.safetensors``) or a foreign DnCNN ``.pth``/``.pt`` checkpoint.
    Its weights are in the channels-last layout; a shipped name gives the network alone
    (``restorekit.infer.resolve_network`` gives the gray model with its low-level partner).
    """
    import torch

    path = resolve_model_path(name_or_path)
    if path.suffix in _FOREIGN_SUFFIXES:
        from restorekit.models.foreign import load_foreign

        model = load_foreign(path)
    else:
        from restorekit.models.weights import load_weights

        model = load_weights(path)
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ModelLoadError(f"bad device {device!r}: {exc}") from None
    # channels-last: the layout oneDNN's and cuDNN's convolutions run fastest in (`make bench`)
    return model.to(device, memory_format=torch.channels_last)
