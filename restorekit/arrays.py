"""Checks of the numpy images and noise levels that the library's functions take.

One place for the rules and their one-line messages: images are HxW or HxWx1/HxWx3, float in
[0, 1] (uint8 and uint16 where a function accepts them); sigma is a number on the [0, 1]
scale, or None for blind use; NaN and inf pixels are refused or filled (:func:`finite_image`).
"""

from __future__ import annotations

import math

import numpy as np

from restorekit.errors import RestorekitError

INTEGER_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))
NAN_POLICIES = ("refuse", "fill")  # what a restoration does with NaN / inf pixels


def check_image(image, name: str = "image", *, integers: bool = True, min_size: int = 2) -> np.ndarray:
    """``image`` as a numpy array after checking its shape and dtype (no conversion).

    ``min_size``: the fewest pixels each way (2 for filters and networks; 1 where a single
    row or pixel is an image, as for adding noise).
    """
    if not isinstance(image, np.ndarray):
        raise RestorekitError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise RestorekitError(f"{name} must be HxW or HxWx1/HxWx3, got shape {image.shape}")
    if min(image.shape[:2]) < min_size:
        raise RestorekitError(f"{name} is too small ({image.shape[0]}x{image.shape[1]})")
    ok = np.issubdtype(image.dtype, np.floating) or (integers and image.dtype in INTEGER_DTYPES)
    if not ok:
        allowed = "float in [0, 1], uint8 or uint16" if integers else "float in [0, 1] (convert with restorekit.read_image)"
        raise RestorekitError(f"{name}: unsupported dtype {image.dtype} (use {allowed})")
    return image


def check_sigma(sigma, *, blind: bool = True, unit: bool = True) -> float | None:
    """A noise level on the [0, 1] scale; None passes through where blind use is allowed.

    ``unit=False`` accepts any non-negative level (an image in its own units, not [0, 1]).
    """
    if sigma is None and blind:
        return None
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise RestorekitError(f"sigma must be a number in [0, 1]{' or None' if blind else ''}, got {sigma!r}") from None
    if not math.isfinite(value) or value < 0:
        raise RestorekitError(f"sigma must be a number in [0, 1], got {sigma!r}")
    if unit and value > 1:
        raise RestorekitError(
            f"sigma is on the [0, 1] scale ({value:g}/255 = {value / 255:.4f} for {value:g} on the 0-255 scale), got {value:g}"
        )
    return value


def round_unit(image, dtype=np.uint8) -> np.ndarray:
    """Float in [0, 1] -> uint8 / uint16, the one rounding rule of the whole package.

    ``uint(clip(x, 0, 1) * max + 0.5)`` computed in float64 (float32 has too few mantissa
    bits for 16-bit values), NaN taken as 0: the rounding of the papers' evaluation protocol,
    so an image written to an 8-bit file and read back scores what ``evaluate`` reports.
    """
    dtype = np.dtype(dtype)
    top = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}[dtype]
    x = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0)
    return (np.clip(x, 0.0, 1.0) * top + 0.5).astype(dtype)


def finite_image(image: np.ndarray, nan: str = "refuse") -> tuple[np.ndarray, np.ndarray | None]:
    """``(float32 image without NaN / inf, mask of the pixels that were not finite or None)``.

    ``nan="refuse"`` raises one line when any value is not finite; ``"fill"`` replaces each
    by its nearest finite neighbour's (:func:`fill_nonfinite`), so that a restoration can
    run and the caller can put the originals back at ``mask`` afterwards. uint8 / uint16
    images are scaled to [0, 1] (they hold no NaN).
    """
    if nan not in NAN_POLICIES:
        raise RestorekitError(f"nan must be one of {', '.join(NAN_POLICIES)}, got {nan!r}")
    if image.dtype in INTEGER_DTYPES:
        return image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max), None
    arr = np.asarray(image, dtype=np.float32)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return arr, None
    if nan == "refuse":
        raise RestorekitError(f"image has {int(bad.sum())} non-finite pixel value(s) (NaN or inf); "
                              "pass nan='fill' (CLI: --nan fill) to restore around them")
    return fill_nonfinite(arr, bad), bad


def fill_nonfinite(image: np.ndarray, bad: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``image`` with each non-finite value replaced by its nearest finite
    neighbour's, channel by channel (a channel with no finite value becomes 0).

    ``bad``: the mask of values to replace (default: the non-finite ones). Raises one line
    when the whole image is non-finite: there is nothing to fill from.
    """
    from scipy import ndimage

    bad = ~np.isfinite(image) if bad is None else bad
    if bad.all():
        raise RestorekitError("image has no finite pixel values")
    out = np.array(image, copy=True)
    planes = [(out, bad)] if out.ndim == 2 else [(out[..., c], bad[..., c]) for c in range(out.shape[2])]
    for plane, mask in planes:
        if mask.any():
            if mask.all():
                plane[...] = 0.0
                continue
            idx = ndimage.distance_transform_edt(mask, return_distances=False, return_indices=True)
            plane[...] = plane[tuple(idx)]
    return out
