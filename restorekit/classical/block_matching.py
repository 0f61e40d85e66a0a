"""BM3D (Dabov et al., IEEE TIP 2007) and CBM3D for colour, through the ``bm3d`` package.

Nothing here is tuned: the package's default ``'np'`` profile with both stages and
``sigma_psd = sigma`` reproduces the published Set12 figure at sigma 25 (29.97 dB; we
measure 29.985 dB with the paper protocol, see tests/test_classical.py and docs/classical.md).
"""

from __future__ import annotations

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

BM3D_PROFILE = "np"


def _numpy_trapz_shim() -> None:
    """bm3d 4.0.3 (through bm4d) calls ``np.trapz`` in its correlated-noise and deblurring
    code; NumPy 2.4 removed it in favour of ``np.trapezoid``, which computes the same thing."""
    if not hasattr(np, "trapz") and hasattr(np, "trapezoid"):
        np.trapz = np.trapezoid


@register_method("bm3d")
class BM3D(ClassicalMethod):
    """``bm3d.bm3d`` (gray) or ``bm3d.bm3d_rgb`` (colour, opponent colour space), both stages."""

    name = "bm3d"

    def __init__(self, profile: str = BM3D_PROFILE):
        self.profile = profile

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        _numpy_trapz_shim()
        import bm3d

        img = image.astype(np.float64)
        if img.ndim == 3:
            return bm3d.bm3d_rgb(img, sigma_psd=sigma, profile=self.profile)
        return bm3d.bm3d(img, sigma_psd=sigma, profile=self.profile, stage_arg=bm3d.BM3DStages.ALL_STAGES)
