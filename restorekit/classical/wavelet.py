"""Wavelet shrinkage with BayesShrink thresholds (Chang, Yu & Vetterli, IEEE TIP 2000).

Uses ``skimage.restoration.denoise_wavelet``; the wavelet and a multiplier on the given sigma
were chosen on training images by ``scripts/tune_classical.py`` (docs/classical.md). Colour
images are shrunk in YCbCr, where the channels are less correlated than R, G, B.
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

# Chosen by scripts/tune_classical.py (docs/classical.md).
WAVELET = "coif1"
WAVELET_SIGMA_SCALE = 1.0


@register_method("wavelet")
class Wavelet(ClassicalMethod):
    """Soft BayesShrink in the ``WAVELET`` basis with sigma ``a * sigma``."""

    name = "wavelet"

    def __init__(self, wavelet: str = WAVELET, sigma_scale: float = WAVELET_SIGMA_SCALE):
        self.wavelet, self.sigma_scale = wavelet, sigma_scale

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_wavelet

        colour = image.ndim == 3
        return denoise_wavelet(
            image.astype(np.float64),
            sigma=self.sigma_scale * sigma,
            wavelet=self.wavelet,
            mode="soft",
            method="BayesShrink",
            rescale_sigma=True,
            channel_axis=-1 if colour else None,
            convert2ycbcr=colour,
        )
