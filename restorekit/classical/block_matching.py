"""BM3D (Dabov et al., IEEE TIP 2007) and CBM3D for colour, through the ``bm3d`` package.

Nothing here is tuned: the package's default ``'np'`` profile with both stages and
``sigma_psd = sigma`` reproduces the published Set12 figure at sigma 25 (29.97 dB; we
measure 29.985 dB with the paper protocol, see tests/test_classical.py and docs/classical.md).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import numpy as np

from restorekit.classical.base import ClassicalMethod, register_method

BM3D_PROFILE = "np"

_trapz_lock = threading.Lock()
_trapz_users = 0  # calls inside _numpy_trapz(); the last one out removes the alias
_trapz_added = False  # whether the first one in added np.trapz (it was missing)


@contextlib.contextmanager
def _numpy_trapz() -> Iterator[None]:
    """``np.trapz`` for the duration of a bm3d call, and only then.

    bm3d 4.0.3 (through bm4d) calls ``np.trapz`` in its correlated-noise and deblurring code;
    NumPy 2.4 removed it in favour of ``np.trapezoid``, which computes the same thing. The
    alias is added for as long as any bm3d call runs (a count, so that concurrent calls
    overlap safely) and removed after the last, leaving NumPy as it was for everyone else.
    """
    global _trapz_users, _trapz_added
    with _trapz_lock:
        if _trapz_users == 0:
            _trapz_added = not hasattr(np, "trapz") and hasattr(np, "trapezoid")
            if _trapz_added:
                np.trapz = np.trapezoid
        _trapz_users += 1
    try:
        yield
    finally:
        with _trapz_lock:
            _trapz_users -= 1
            if _trapz_users == 0 and _trapz_added:
                del np.trapz
                _trapz_added = False


@register_method("bm3d")
class BM3D(ClassicalMethod):
    """``bm3d.bm3d`` (gray) or ``bm3d.bm3d_rgb`` (colour, opponent colour space), both stages."""

    name = "bm3d"

    def __init__(self, profile: str = BM3D_PROFILE):
        self.profile = profile

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        import bm3d

        img = image.astype(np.float64)
        with _numpy_trapz():
            if img.ndim == 3:
                return bm3d.bm3d_rgb(img, sigma_psd=sigma, profile=self.profile)
            return bm3d.bm3d(img, sigma_psd=sigma, profile=self.profile, stage_arg=bm3d.BM3DStages.ALL_STAGES)
