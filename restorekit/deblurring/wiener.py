"""Wiener deconvolution: one regularised division in the Fourier domain (circular blur).

    X = conj(K) Y / (|K|^2 + balance * |R|^2)

with ``R`` the discrete Laplacian (the default regulariser of scikit-image's
``restoration.wiener``, which penalises rough images rather than bright ones and so rings
less than the identity) or the identity. Our own division rather than scikit-image's
because its PSF placement (``uft.ir2tf``) does not match the benchmark blur's convention for
even-sized kernels; :mod:`restorekit.deblurring.fourier` does.

``balance`` trades noise for sharpness. Under a Gaussian prior on the image's Laplacian,
the MAP balance is ``sigma^2 / s^2`` with ``s^2`` the variance of the Laplacian of natural
images; :func:`default_balance` uses that form with ``s`` fitted on training images
(see :data:`LAPLACIAN_STD`). :func:`tuned_wiener` picks the balance that is best against
the clean image: an oracle, the strongest Wiener there is, for the benchmark.
"""

from __future__ import annotations

import numpy as np

from restorekit.deblurring import fourier
from restorekit.metrics import psnr, quantize8

REGULARISERS = ("laplacian", "identity")
# Scale of natural images' Laplacian (0-1 images) in default_balance = (sigma / s)^2.
# Fitted by scripts/deblur_tune.py --limit 40 (Train400 x Levin's 8 kernels x noise 2.55 and
# 7.65; no test image): the median over cases of sigma / sqrt(best balance) is 0.154 at 2.55
# and 0.127 at 7.65, 0.146 over both; the best balance grows a little faster than sigma^2.
LAPLACIAN_STD = 0.146
MIN_SIGMA = 0.5 / 255  # a floor for noise-free input
# Conjugate-gradient steps for a masked (padded real) image; measured on a 200x200 crop with
# Levin's 23x23 kernel 8: 10 steps leave the inner pixels 0.7 dB, 25 steps 0.3 dB from 50.
MASKED_ITERATIONS = 25
# The oracle's grid: 49 balances from 1e-5 to 10, log-spaced (a factor of 1.33 between neighbours).
TUNING_GRID = tuple(float(b) for b in np.logspace(-5, 1, 49))


def default_balance(sigma: float) -> float:
    """The balance used when none is given, for noise level ``sigma`` (0-1 scale)."""
    return (max(float(sigma), MIN_SIGMA) / LAPLACIAN_STD) ** 2


def wiener(image: np.ndarray, kernel: np.ndarray, sigma: float, *, balance: float | None = None,
           regulariser: str = "laplacian", mask: np.ndarray | None = None) -> np.ndarray:
    """Deconvolve ``image`` (HxW or HxWxC, circular blur by ``kernel``); float32, not clipped.

    ``sigma`` (0-1 scale) sets the balance through :func:`default_balance` unless ``balance``
    is given. With ``mask`` (a padded real image, :mod:`restorekit.deblurring.borders`) only the
    observed pixels count: the same least-squares problem, solved by conjugate gradients
    (:mod:`restorekit.deblurring.masked`) from the unmasked solution.
    """
    x = np.asarray(image, dtype=np.float64)
    transfer = fourier.otf(kernel, x.shape[:2])  # [H, W//2+1]
    penalty = _penalty(regulariser, x.shape[:2])
    balance = default_balance(sigma) if balance is None else float(balance)
    restored = _solve(x, transfer, penalty, balance)
    if mask is not None:
        from restorekit.deblurring.masked import masked_solve

        restored = masked_solve(x, mask, transfer, balance * penalty, x0=restored, iters=MASKED_ITERATIONS)
    return restored.astype(np.float32)


def tuned_wiener(image: np.ndarray, kernel: np.ndarray, clean: np.ndarray, *,
                 grid: tuple[float, ...] = TUNING_GRID, regulariser: str = "laplacian",
                 score=None) -> tuple[np.ndarray, float]:
    """The oracle: Wiener with the balance of ``grid`` that scores best against ``clean``.

    ``score(clean, restored) -> float`` (higher is better) defaults to the PSNR of the
    8-bit images, as the benchmark measures. Returns (restored float32, chosen balance).
    """
    clean8 = quantize8(clean) if score is None else None  # the default's reference, quantized once
    x = np.asarray(image, dtype=np.float64)
    transfer = fourier.otf(kernel, x.shape[:2])
    penalty = _penalty(regulariser, x.shape[:2])
    spectrum = fourier.rfft(x)  # computed once for the whole grid
    best = (-np.inf, None, None)
    for balance in grid:
        restored = _solve(x, transfer, penalty, balance, spectrum).astype(np.float32)
        value = psnr(clean8, quantize8(restored), data_range=255) if score is None else score(clean, restored)
        if value > best[0]:
            best = (value, restored, balance)
    return best[1], float(best[2])


def _penalty(regulariser: str, shape: tuple[int, int]) -> np.ndarray:
    """|R|^2 on the rfft grid: [H, W//2+1] (or a scalar 1 for the identity)."""
    if regulariser == "laplacian":
        return np.abs(fourier.laplacian_otf(shape)) ** 2
    if regulariser == "identity":
        return np.ones(1)
    raise ValueError(f"unknown Wiener regulariser {regulariser!r} (expected {', '.join(REGULARISERS)})")


def _solve(x: np.ndarray, transfer: np.ndarray, penalty: np.ndarray, balance: float,
           spectrum: np.ndarray | None = None) -> np.ndarray:
    if not balance > 0:
        raise ValueError(f"the Wiener balance must be positive, got {balance}")
    spectrum = fourier.rfft(x) if spectrum is None else spectrum
    gain = np.conj(transfer) / (np.abs(transfer) ** 2 + balance * penalty)  # [H, W//2+1]
    return fourier.irfft(spectrum * fourier.per_channel(gain, spectrum), x.shape[:2])
