"""Total-variation denoising (Chambolle's projection algorithm, scikit-image).

The weight is ``a * sigma``; ``a`` was chosen on training images by
``scripts/tune_classical.py`` (docs/classical.md).
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

# Chosen by scripts/tune_classical.py (docs/classical.md): weight = a * sigma.
TV_WEIGHT_PER_SIGMA = 1.0


@register_method("tv")
class TotalVariation(ClassicalMethod):
    """``denoise_tv_chambolle`` with weight ``a * sigma``; colour channels apart."""

    name = "tv"

    def __init__(self, weight_per_sigma: float = TV_WEIGHT_PER_SIGMA):
        self.weight_per_sigma = weight_per_sigma

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_tv_chambolle

        return denoise_tv_chambolle(
            image.astype(np.float64),
            weight=self.weight_per_sigma * sigma,
            channel_axis=None if image.ndim == 2 else -1,
        )
