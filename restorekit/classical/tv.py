"""Total-variation denoising (Chambolle's projection algorithm, scikit-image).

The weight is ``a * sigma * (s / 25) ** b`` with ``s = 255 * sigma``: a little weaker than
linear at low noise. ``a`` and ``b`` were chosen on training images by
``scripts/tune_classical.py`` (docs/classical.md).
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

# Chosen by scripts/tune_classical.py (docs/classical.md).
TV_WEIGHT_PER_SIGMA = 0.7
TV_EXPONENT = 0.25


@register_method("tv")
class TotalVariation(ClassicalMethod):
    """``denoise_tv_chambolle`` with weight ``a * sigma * (s / 25) ** b``; colour channels apart."""

    name = "tv"

    def __init__(self, weight_per_sigma: float = TV_WEIGHT_PER_SIGMA, exponent: float = TV_EXPONENT):
        self.weight_per_sigma, self.exponent = weight_per_sigma, exponent

    def weight(self, sigma: float) -> float:
        return self.weight_per_sigma * sigma * (255 * sigma / 25) ** self.exponent

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_tv_chambolle

        return denoise_tv_chambolle(
            image.astype(np.float64),
            weight=self.weight(sigma),
            channel_axis=None if image.ndim == 2 else -1,
        )
