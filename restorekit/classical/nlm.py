"""Non-local means (Buades, Coll & Morel, CVPR 2005), scikit-image's fast mode.

The filtering strength is ``h = a * sigma`` and the known noise variance is subtracted from
patch distances (scikit-image's ``sigma`` argument). ``a`` and the patch size were chosen on
training images by ``scripts/tune_classical.py`` (docs/classical.md). Colour patches are
compared over all channels at once.
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

# Chosen by scripts/tune_classical.py (docs/classical.md): h = a * sigma, patch side.
NLM_H_PER_SIGMA = 0.6
NLM_PATCH_SIZE = 5
# Search window 13x13: wider windows gain little on photographs and cost quadratically.
NLM_PATCH_DISTANCE = 6


@register_method("nlm")
class NonLocalMeans(ClassicalMethod):
    """``denoise_nl_means(fast_mode=True)`` with ``h = a * sigma``."""

    name = "nlm"

    def __init__(self, h_per_sigma: float = NLM_H_PER_SIGMA, patch_size: int = NLM_PATCH_SIZE,
                 patch_distance: int = NLM_PATCH_DISTANCE):
        self.h_per_sigma, self.patch_size, self.patch_distance = h_per_sigma, patch_size, patch_distance

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_nl_means

        return denoise_nl_means(
            image.astype(np.float64),
            h=self.h_per_sigma * sigma,
            sigma=sigma,
            patch_size=self.patch_size,
            patch_distance=self.patch_distance,
            fast_mode=True,
            channel_axis=None if image.ndim == 2 else -1,
        )
