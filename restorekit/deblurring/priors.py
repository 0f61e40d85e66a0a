"""The denoiser that plug-and-play deblurring uses as its prior, from whatever the user names.

Plug-and-play calls the denoiser at a different noise level in every iteration, so the
prior must be told its level: a noise-conditioned network (``model.conditioned``, such as
the shipped ``fastunet.*``) or a classical denoiser that takes sigma (BM3D, ...). Both come
from :func:`restorekit.infer.as_restorer`, the one place a name becomes a Restorer
``denoiser(image, sigma) -> image``; a gray network serves colour images channel by channel.
"""

from __future__ import annotations

from typing import Any

from restorekit.errors import ModelLoadError


def resolve_prior(model: Any, channels: int) -> Any:
    """``model`` -> a Restorer ``(image, sigma) -> image`` for ``channels``-channel images.

    ``model`` may be None (the shipped default for ``channels``), a loaded ``nn.Module``, a
    classical method's name (``bm3d``), a model name or path, or already a callable
    ``(image, sigma) -> image``.
    """
    from restorekit.infer import as_restorer

    prior = as_restorer(model, channels, per_channel=True)
    if getattr(prior, "conditioned", True) is False:
        raise ModelLoadError(
            f"{prior.name} is not noise-conditioned; plug-and-play needs a denoiser that takes sigma "
            "(e.g. fastunet.gray)"
        )
    return prior
