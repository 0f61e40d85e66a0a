"""Local smoothing filters: median, Gaussian and bilateral, with parameters that grow with sigma.

The constants (``*_PER_SIGMA``, ``*_EXPONENT``...) were chosen on training images by
``scripts/tune_classical.py`` (20 Train400 images, sigma 15/25/50, paper-protocol noise);
docs/classical.md gives the command and its output. Spatial sizes are written as functions
of ``s = 255 * sigma`` (0-255 units) so that the constants read naturally.
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

# Chosen by scripts/tune_classical.py (docs/classical.md): median window radius = a * s.
MEDIAN_RADIUS_PER_SIGMA = 0.04  # windows 3x3, 3x3, 5x5 at s = 15, 25, 50
# Chosen by scripts/tune_classical.py: Gaussian std (pixels) = a * (s / 25) ** b.
GAUSSIAN_STD_AT_25 = 0.9
GAUSSIAN_EXPONENT = 0.75
# Chosen by scripts/tune_classical.py: sigma_color = a * sigma (per channel), sigma_spatial =
# b * (s / 25) ** 0.5 pixels.
BILATERAL_COLOR_PER_SIGMA = 2.5
BILATERAL_SPATIAL_AT_25 = 1.5


@register_method("median")
class Median(ClassicalMethod):
    """Median filter over a square window of side ``2 * max(1, round(a * s)) + 1``, each channel apart."""

    name = "median"

    def __init__(self, radius_per_sigma: float = MEDIAN_RADIUS_PER_SIGMA):
        self.radius_per_sigma = radius_per_sigma

    def window(self, sigma: float) -> int:
        return 2 * max(1, round(self.radius_per_sigma * 255 * sigma)) + 1

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from scipy.ndimage import median_filter

        k = self.window(sigma)
        return median_filter(image, size=(k, k) if image.ndim == 2 else (k, k, 1), mode="reflect")


@register_method("gaussian")
class Gaussian(ClassicalMethod):
    """Gaussian blur of std ``a * (s / 25) ** b`` pixels, each channel apart."""

    name = "gaussian"

    def __init__(self, std_at_25: float = GAUSSIAN_STD_AT_25, exponent: float = GAUSSIAN_EXPONENT):
        self.std_at_25, self.exponent = std_at_25, exponent

    def std(self, sigma: float) -> float:
        return self.std_at_25 * (255 * sigma / 25) ** self.exponent

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        s = self.std(sigma)
        return gaussian_filter(image, sigma=(s, s) if image.ndim == 2 else (s, s, 0), mode="reflect")


@register_method("bilateral")
class Bilateral(ClassicalMethod):
    """Bilateral filter (Tomasi & Manduchi 1998): range std ``a * sigma``, spatial std ``b * (s / 25) ** 0.5``.

    Written here in NumPy rather than taken from scikit-image: ``denoise_bilateral`` (0.26)
    does not reduce to a Gaussian blur as sigma_color grows (on a random 20x20 image with
    sigma_color=100 it is 0.42 away from it), which made its tuned parameters meaningless.
    """

    name = "bilateral"

    def __init__(
        self, color_per_sigma: float = BILATERAL_COLOR_PER_SIGMA, spatial_at_25: float = BILATERAL_SPATIAL_AT_25
    ):
        self.color_per_sigma, self.spatial_at_25 = color_per_sigma, spatial_at_25

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        img = image.astype(np.float64)
        img3 = img[..., None] if img.ndim == 2 else img  # [H, W, C]
        # Colour distances are Euclidean over the channels: their noise part grows as sqrt(C).
        sigma_color = self.color_per_sigma * sigma * np.sqrt(img3.shape[2])
        sigma_spatial = self.spatial_at_25 * np.sqrt(255 * sigma / 25)
        out = bilateral_filter(img3, sigma_color, sigma_spatial)
        return out[..., 0] if img.ndim == 2 else out


def bilateral_filter(image: np.ndarray, sigma_color: float, sigma_spatial: float) -> np.ndarray:
    """Bilateral filter of an [H, W, C] float image over a window of radius ceil(2 sigma_spatial).

    One pass per window offset: weight = exp(-d^2 / 2 sigma_spatial^2) exp(-||x_p - x_q||^2 /
    2 sigma_color^2), edges mirrored as scipy.ndimage's "reflect".
    """
    h, w, _ = image.shape
    r = max(1, int(np.ceil(2 * sigma_spatial)))
    padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode="symmetric")  # [H+2r, W+2r, C]
    total = np.zeros_like(image)
    weights = np.zeros((h, w, 1))
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            near = padded[r + dy : r + dy + h, r + dx : r + dx + w]  # [H, W, C]
            dist2 = np.sum((near - image) ** 2, axis=2, keepdims=True)  # [H, W, 1]
            weight = np.exp(-(dy * dy + dx * dx) / (2 * sigma_spatial**2) - dist2 / (2 * sigma_color**2))
            total += weight * near
            weights += weight
    return total / weights
