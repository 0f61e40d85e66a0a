"""Borders of real photographs: make a non-circular image fit circular (FFT) deconvolution.

A camera's blur mixes in scene pixels from beyond the frame; FFT deconvolution instead
assumes the image wraps around, so the top row's blur would come from the bottom row. The
jump between opposite borders then rings across the whole result. Two remedies, combined:

1. **Pad and taper** (what MATLAB's ``edgetaper`` is for): extend the image by reflection on
   every side, then blend the extension into its own blurred copy near the wrap-around seam
   (:func:`edgetaper`, weights from the kernel's autocorrelation), so that the padded image
   is close to periodic and smooth where it wraps. Wiener uses this padded image as it is.
2. **A masked data term**: the padded domain is ``H + kh - 1`` (and more) high, so a circular
   blur on it reproduces the real, non-circular blur exactly at the original pixels. Those
   pixels alone carry data (``mask`` = 1), the extension is unknown and is estimated along
   with the image: by Richardson-Lucy's masked update (Bertero & Boccacci 2005), and in the
   HQS data step by filling the unknown pixels with the current estimate's blur before each
   FFT solve (an EM step for the missing data; Almeida & Figueiredo, IEEE TIP 2013, treat
   the same problem with ADMM).

The result is cropped back to the input's size.

>>> padded = pad_for_deconvolution(image, kernel)          # doctest: +SKIP
>>> restored = padded.crop(wiener(padded.image, kernel, sigma))   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from restorekit.deblurring import fourier

MULTIPLE = 8  # padded sizes are multiples of this (the shipped U-Nets' requirement) ...
MIN_EXTENSION = 16  # ... and extend the image by at least this many pixels per axis


@dataclass(frozen=True)
class Padded:
    """An image extended for circular deconvolution, and where the original lies in it."""

    image: np.ndarray  # [Hp, Wp(, C)] float64: reflected, then edge-tapered
    mask: np.ndarray  # [Hp, Wp] float64: 1 on the original pixels, 0 on the extension
    rows: slice  # the original's rows in the padded image
    cols: slice

    def crop(self, x: np.ndarray) -> np.ndarray:
        """The original's region of a padded-size result."""
        return x[self.rows, self.cols]


def padded_length(n: int, k: int, multiple: int = MULTIPLE) -> int:
    """A padded side for an image side ``n`` and kernel side ``k``.

    At least ``n + 2 (k - 1)``: ``k - 1`` pixels make the circular model exact at the
    original pixels; twice that leaves room for a smooth wrap-around. Rounded up to a
    multiple of ``multiple`` whose FFT is fast (no prime factor above 5).
    """
    import scipy.fft

    size = -(-(n + max(2 * k, MIN_EXTENSION)) // multiple) * multiple
    while scipy.fft.next_fast_len(size, real=True) != size:
        size += multiple
    return size


def pad_for_deconvolution(image: np.ndarray, kernel: np.ndarray, *, multiple: int = MULTIPLE) -> Padded:
    """Extend ``image`` (HxW or HxWxC) by reflection and taper its seam; see the module doc."""
    x = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    height, width = x.shape[:2]
    padded_h = padded_length(height, kernel.shape[0], multiple)
    padded_w = padded_length(width, kernel.shape[1], multiple)
    top, left = (padded_h - height) // 2, (padded_w - width) // 2
    widths = [(top, padded_h - height - top), (left, padded_w - width - left)] + [(0, 0)] * (x.ndim - 2)
    # "symmetric" repeats the edge pixel (d c b a | a b c d): scipy's and restorekit's "reflect".
    extended = np.pad(x, widths, mode="symmetric")
    mask = np.zeros((padded_h, padded_w))
    rows, cols = slice(top, top + height), slice(left, left + width)
    mask[rows, cols] = 1.0
    return Padded(image=edgetaper(extended, kernel), mask=mask, rows=rows, cols=cols)


def edgetaper(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Blend ``image`` into its circular blur near its borders (MATLAB's ``edgetaper``).

    ``alpha = (1 - a_rows) (1 - a_cols)``, with ``a`` the normalised circular autocorrelation
    of the kernel's projection on each axis: 0 at the borders, 1 a kernel's width inside.
    ``alpha * image + (1 - alpha) * blur(image)`` is then nearly continuous across the
    wrap-around, with the kernel's own smoothness there.
    """
    x = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    height, width = x.shape[:2]
    alpha = np.outer(_taper(kernel.sum(axis=1), height), _taper(kernel.sum(axis=0), width))  # [H, W]
    alpha = alpha if x.ndim == 2 else alpha[:, :, None]
    blurred = fourier.convolve(x, fourier.otf(kernel, (height, width)))
    return alpha * x + (1 - alpha) * blurred


def _taper(projection: np.ndarray, n: int) -> np.ndarray:
    """1 - the circular autocorrelation of ``projection`` (a 1-D kernel) over length ``n``, max 1."""
    p = np.zeros(n)
    p[: min(n, projection.size)] = projection[:n]  # a kernel longer than the image: keep what fits
    auto = np.fft.ifft(np.abs(np.fft.fft(p)) ** 2).real  # lag 0 at index 0, i.e. at the seam
    return 1.0 - auto / auto.max()
