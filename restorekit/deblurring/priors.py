"""The denoiser that plug-and-play deblurring uses as its prior, from whatever the user names.

Plug-and-play calls the denoiser at a different noise level in every iteration, so the
prior must be told its level: a noise-conditioned network (``model.conditioned``, such as
the shipped ``fastunet.*``) or a classical denoiser that takes sigma (BM3D, ...). Both go
through the same Restorer protocol, ``denoiser(image, sigma) -> image``, numpy in and out.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from restorekit.errors import ModelLoadError, RestorekitError


class ModelPrior:
    """A conditioned network as a Restorer; a gray network serves colour images channel by channel."""

    def __init__(self, net: Any, name: str):
        if not getattr(net, "conditioned", False):
            raise ModelLoadError(
                f"{name} is not noise-conditioned; plug-and-play needs a denoiser that takes sigma "
                "(e.g. fastunet.gray)"
            )
        self.net = net
        self.name = name

    def __call__(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from restorekit.api import denoise

        channels = 1 if image.ndim == 2 else image.shape[2]
        if channels == 3 and self.net.in_channels == 1:
            return np.stack([denoise(image[:, :, c], model=self.net, sigma=sigma) for c in range(3)], axis=2)
        if channels != self.net.in_channels:
            raise RestorekitError(f"{self.name} denoises {self.net.in_channels}-channel images, "
                                  f"not {channels}-channel ones")
        return denoise(image, model=self.net, sigma=sigma)

    def __repr__(self) -> str:
        return f"ModelPrior({self.name!r})"


def resolve_prior(model: Any, channels: int) -> Any:
    """``model`` -> a Restorer ``(image, sigma) -> image`` for ``channels``-channel images.

    ``model`` may be None (the shipped default for ``channels``), a loaded ``nn.Module``, a
    classical method's name (``bm3d``), a model name or path (``load_model``), or already a
    callable ``(image, sigma) -> image``.
    """
    from torch import nn

    if model is None:
        from restorekit.api import default_model

        model = default_model(channels)
    if isinstance(model, nn.Module):
        return ModelPrior(model, type(model).__name__)
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model).strip()
        classical = _classical(text)
        if classical is not None:
            return classical
        from restorekit.models import load_model

        return ModelPrior(load_model(text), text)
    if callable(model):
        return model
    raise RestorekitError(f"the prior must be a model name, a path, an nn.Module or a denoiser, "
                          f"got {type(model).__name__}")


def _classical(name: str) -> Any | None:
    """The classical denoiser called ``name``, or None where there is none by that name."""
    try:
        from restorekit.classical import get_method, list_methods
    except ImportError:  # the classical methods are optional to this module
        return None
    return get_method(name) if name in list_methods() else None
