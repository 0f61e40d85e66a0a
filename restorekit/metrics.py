"""Image quality: PSNR and SSIM, one value per image, equal to scikit-image's.

The published tables compare 8-bit images (see ``quantize8`` and ../shared/data/README.md),
so the data range follows the dtype: 255 for uint8, 65535 for uint16, 1.0 for floats.

>>> import numpy as np
>>> clean = np.full((8, 8), 100, np.uint8)
>>> psnr(clean, clean + 1)          # MSE 1 on a 255 range
48.1308036086791
"""

from __future__ import annotations

import numpy as np

from restorekit.errors import RestorekitError


def psnr(reference: np.ndarray, test: np.ndarray, data_range: float | None = None, crop: int = 0) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` where the images are identical.

    ``reference`` and ``test`` are HxW or HxWxC of the same shape; ``crop`` border pixels are
    removed from every side first (as some deblurring tables do). Equal to
    ``skimage.metrics.peak_signal_noise_ratio`` without its divide-by-zero warning.
    """
    ref, out, data_range = _prepare(reference, test, data_range, crop)
    mse = np.mean((ref.astype(np.float64) - out.astype(np.float64)) ** 2)
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / mse))


def ssim(reference: np.ndarray, test: np.ndarray, data_range: float | None = None, crop: int = 0) -> float:
    """Structural similarity (scikit-image's defaults: 7x7 uniform window); colour: mean over channels."""
    from skimage.metrics import structural_similarity

    ref, out, data_range = _prepare(reference, test, data_range, crop)
    if min(ref.shape[:2]) < 7:
        raise RestorekitError(f"SSIM needs images of at least 7x7 pixels, got {ref.shape[0]}x{ref.shape[1]}")
    channel_axis = -1 if ref.ndim == 3 else None
    return float(structural_similarity(ref, out, data_range=data_range, channel_axis=channel_axis))


def quantize8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 with the papers' rounding: ``uint8(clip(x, 0, 1) * 255 + 0.5)``
    (:func:`restorekit.arrays.round_unit`, the rounding ``write_image`` uses too)."""
    from restorekit.arrays import round_unit

    return round_unit(image, np.uint8)


def batch_psnr(x, y, data_range: float = 1.0):
    """PSNR of each image of two torch batches ``[B, C, H, W]`` -> ``[B]`` (for validation)."""
    import torch

    if x.shape != y.shape:
        raise RestorekitError(f"batches differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    mse = (x.detach().double() - y.detach().double()).pow(2).flatten(1).mean(dim=1)  # [B]
    return (10 * torch.log10(data_range**2 / mse)).to(x.dtype if x.is_floating_point() else torch.float32)


def _prepare(reference, test, data_range, crop) -> tuple[np.ndarray, np.ndarray, float]:
    ref, out = np.asarray(reference), np.asarray(test)
    if ref.shape != out.shape:
        raise RestorekitError(f"images differ in shape: {ref.shape} vs {out.shape}")
    if ref.ndim not in (2, 3):
        raise RestorekitError(f"expected HxW or HxWxC images, got shape {ref.shape}")
    if crop < 0 or 2 * crop >= min(ref.shape[:2]):
        raise RestorekitError(f"crop {crop} does not fit an image of {ref.shape[0]}x{ref.shape[1]}")
    if crop:
        ref, out = ref[crop:-crop, crop:-crop], out[crop:-crop, crop:-crop]
    return ref, out, _data_range(ref.dtype) if data_range is None else float(data_range)


def _data_range(dtype: np.dtype) -> float:
    if np.issubdtype(dtype, np.floating):
        return 1.0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)  # uint8: 255, uint16: 65535 (scikit-image's convention)
        return float(info.max - info.min)
    raise RestorekitError(f"cannot infer the data range of {dtype} images; give data_range")
