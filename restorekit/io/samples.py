"""File samples <-> restorekit's float32: the one place where values are scaled and clipped.

- uint8 / uint16: scaled to [0, 1] on reading; on writing clipped to [0, 1], scaled and
  rounded half up (``uint8(clip(x) * 255 + 0.5)``, the papers' evaluation rounding).
- other integers (int8, int16, uint32, int32): kept in their own units as float32 (float32
  holds integers exactly up to 2**24); on writing rounded half up and clipped to the dtype's range.
- floats (float16, float32, float64): kept as they are, never clipped, NaN and inf included
  (float64 is rounded to float32 on reading).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorekit.arrays import round_unit

from restorekit.errors import ImageReadError

SCALED = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}  # stored as [0, 1] floats
_READABLE = tuple(np.dtype(d) for d in (np.uint8, np.uint16, np.int8, np.int16, np.uint32, np.int32,
                                         np.float16, np.float32, np.float64))


def to_float32(array: np.ndarray) -> np.ndarray:
    """Samples -> float32: uint8/uint16 scaled to [0, 1], bool to 0/1, other numbers as they are."""
    array = np.asarray(array)
    if array.dtype in SCALED:
        return array.astype(np.float32) / np.float32(SCALED[array.dtype])
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    raise TypeError(f"cannot convert {array.dtype} image to float32 (expected integers or floats)")


def from_float32(image: np.ndarray, dtype) -> np.ndarray:
    """float -> ``dtype``; integers rounded half up: ``uint8(clip(x, 0, 1) * 255 + 0.5)``.

    uint8/uint16 take [0, 1] (clipped; NaN becomes 0); this is the rounding of the papers'
    evaluation protocol, so a restored image written and read back scores what the tables
    report. Other integer types take values in their own units, clipped to the type's range.
    Float types are never clipped.
    """
    dtype = np.dtype(dtype)
    x = np.asarray(image)
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype, copy=False)
    if dtype in SCALED:
        return round_unit(x, dtype)
    x = np.nan_to_num(x.astype(np.float64), nan=0.0)
    if np.issubdtype(dtype, np.integer):
        limits = np.iinfo(dtype)
        return np.clip(np.floor(x + 0.5), limits.min, limits.max).astype(dtype)
    raise TypeError(f"cannot write {dtype} images (expected integers or floats)")


def split_samples(path: Path, array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """HxW / HxWx{1,2,3,4} samples -> (float32 HxW or HxWx3 image, alpha in the file's dtype)."""
    if array.dtype not in _READABLE:
        raise ImageReadError(f"{path}: unsupported sample type {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    alpha = None
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array, alpha = array[:, :, :-1], np.ascontiguousarray(array[:, :, -1])
        if array.shape[2] == 1:
            array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ImageReadError(f"{path}: unsupported image shape {array.shape} (expected gray, RGB or RGBA)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageReadError(f"{path}: empty image {array.shape}")
    return np.ascontiguousarray(to_float32(array)), alpha


def value_range(pages: list[np.ndarray]) -> tuple[float, float] | None:
    """(min, max) of the finite values over all pages, None when there is none."""
    lows, highs = [], []
    for page in pages:
        finite = page if np.isfinite(page).all() else page[np.isfinite(page)]
        if finite.size:
            lows.append(float(finite.min()))
            highs.append(float(finite.max()))
    return (min(lows), max(highs)) if lows else None
