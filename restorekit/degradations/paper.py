"""The published tables' degradation protocol, reproduced exactly with NumPy's legacy generator.

DnCNN, FFDNet, DRUNet and the deblurring papers (DPIR, via KAIR) make their test inputs as

    np.random.seed(0)                                   # once per image
    img_L = ndimage.convolve(img_H, k[..., None], mode="wrap")   # deblurring only
    img_L = img_L + np.random.normal(0, sigma / 255, img_L.shape)

with no clipping or quantization of the noisy image. The figures in their tables depend on
those exact draws, so this module uses NumPy's legacy ``RandomState(0)`` (the same stream
as ``np.random.seed(0)``, without touching the global state) rather than torch.
"""

from __future__ import annotations

import numpy as np

from restorekit.degradations.spec import Degradation, parse_spec
from restorekit.errors import SpecError


def check_paper_spec(spec: str | Degradation) -> Degradation:
    """Parse ``spec`` and check that the paper protocol covers it; raises :class:`SpecError`."""
    degradation = parse_spec(spec)
    low, high = degradation.noise_range or (None, None)
    if low is None:
        raise SpecError(f"the paper protocol takes Gaussian noise only, not {degradation.spec!r}")
    if low != high:
        raise SpecError(f"the paper protocol needs a fixed sigma, not the range in {degradation.spec!r}")
    if degradation.kernel is not None and degradation.blur_mode != "circular":
        raise SpecError(f"the paper protocol blurs circularly, not with {degradation.blur_mode} edges")
    return degradation


def paper_degrade(clean: np.ndarray, spec: str | Degradation) -> np.ndarray:
    """Degrade one image ``HxW`` or ``HxWxC`` (float, [0, 1]) as the papers did; float32 out.

    Only Gaussian noise of a fixed sigma, optionally after a (circular) blur, is allowed:
    the papers define no protocol for the rest. Raises :class:`SpecError` otherwise.

    >>> noisy = paper_degrade(clean, "gaussian:25")     # doctest: +SKIP
    """
    degradation = check_paper_spec(spec)
    image = np.asarray(clean)
    if image.ndim not in (2, 3):
        raise ValueError(f"paper_degrade takes an HxW or HxWxC image, got shape {image.shape}")

    rng = np.random.RandomState(0)  # per image, as np.random.seed(0) in the papers' code
    if degradation.kernel is not None:
        from scipy import ndimage

        k = degradation.kernel if image.ndim == 2 else degradation.kernel[..., None]  # [kh, kw(, 1)]
        image = ndimage.convolve(image, k, mode="wrap")
    # The noise is drawn in float64 and added in float64 (float32 + float64 promotes).
    sigma = degradation.noise[0].low if degradation.noise else 0.0
    noisy = image + rng.normal(0, sigma, image.shape)
    return noisy.astype(np.float32)
