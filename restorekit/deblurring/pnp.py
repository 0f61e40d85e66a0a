"""Plug-and-play deblurring: half-quadratic splitting with a denoiser as the prior (DPIR).

Zhang, Li, Zuo, Zhang, Van Gool & Timofte, "Plug-and-Play Image Restoration with Deep
Denoiser Prior", IEEE TPAMI 2021, eq. (6)-(8): to minimise ``||y - k * x||^2 / (2 sigma^2) +
lambda R(x)``, split ``x = z`` and alternate, for k = 1..K,

    x_k = argmin_x ||y - k * x||^2 + rho_k ||x - z_{k-1}||^2     (data step, closed form by FFT:
        = F^-1[ (conj(K) Y + rho_k Z) / (|K|^2 + rho_k) ]         circular blur, per channel)
    z_k = Denoiser(x_k, sigma_k)                                   (prior step)

with ``sigma_k`` log-spaced from 49/255 down to the noise level and
``rho_k = lambda sigma^2 / sigma_k^2`` (DPIR's ``get_rho_sigma``, lambda = 0.23, 8 iterations
for deblurring). Large ``sigma_k`` first removes the ringing of the early, weakly
regularised data steps; the last steps denoise at the true level.

With a ``mask`` (:mod:`restorekit.deblurring.borders`) only the observed pixels of the padded
``y`` carry data; the data step is then solved by conjugate gradients
(:mod:`restorekit.deblurring.masked`), warm-started from the previous step's solution.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from restorekit.deblurring import fourier
from restorekit.deblurring.masked import masked_solve

CG_ITERATIONS = 10  # per data step, warm-started; measured on a 200x200 crop, Levin's kernel 8:
# the masked solve gains 3 dB inside the image over refilling the unknown pixels once per step

# DPIR's constants (main_dpir_deblur.py): 8 iterations, sigma_k from 49/255, lambda 0.23,
# and a floor of 0.255/255 on the noise level (a noise-free input still needs a finite rho).
ITERATIONS = 8
SIGMA_START = 49 / 255
LAMBDA = 0.23
MIN_SIGMA = 0.255 / 255

Denoiser = Callable[[np.ndarray, float], np.ndarray]  # (image HxW(xC), sigma in [0, 1]) -> image


def schedule(sigma: float, iters: int = ITERATIONS, *, start: float = SIGMA_START,
             lam: float = LAMBDA) -> tuple[np.ndarray, np.ndarray]:
    """DPIR's (sigma_k, rho_k), k = 1..iters: denoiser levels log-spaced from ``start`` to
    the noise level ``sigma`` (0-1 scale), and the data step's weights ``lam sigma^2 / sigma_k^2``.
    """
    if iters < 1:
        raise ValueError(f"plug-and-play needs at least 1 iteration, got {iters}")
    sigma = max(float(sigma), MIN_SIGMA)
    levels = np.logspace(np.log10(max(start, sigma)), np.log10(sigma), iters)
    return levels, lam * sigma**2 / levels**2


def pnp_hqs(image: np.ndarray, kernel: np.ndarray, sigma: float, denoiser: Denoiser, *,
            iters: int = ITERATIONS, mask: np.ndarray | None = None, init: np.ndarray | None = None,
            lam: float = LAMBDA, rotate: bool = True) -> np.ndarray:
    """Deblur ``image`` (HxW or HxWxC, circular blur by ``kernel``, noise ``sigma`` on the 0-1
    scale) by HQS with ``denoiser``; float32, not clipped.

    ``mask`` (HxW, 1 observed / 0 unknown) and ``init`` (the starting estimate, default
    ``image``) are for padded real images; see :mod:`restorekit.deblurring.borders`. ``rotate``
    hands the denoiser the k-th of the 8 flips/rotations in step k (and turns the result
    back), as DPIR's ``x8`` option: the denoiser's own artefacts then do not pile up in one
    orientation over the iterations; it costs nothing.
    """
    y = np.asarray(image, dtype=np.float64)
    shape = y.shape[:2]
    transfer = fourier.otf(kernel, shape)  # [H, W//2+1]
    gain = fourier.per_channel(np.conj(transfer), y)  # conj(K), broadcast over channels
    power = fourier.per_channel(np.abs(transfer) ** 2, y)  # |K|^2
    target = gain * fourier.rfft(y)  # conj(K) Y, the same in every data step
    x = z = y if init is None else np.asarray(init, dtype=np.float64)
    levels, rhos = schedule(sigma, iters, lam=lam)
    for step, (level, rho) in enumerate(zip(levels, rhos)):
        if mask is None:  # circular: the closed form
            x = fourier.irfft((target + rho * fourier.rfft(z)) / (power + rho), shape)
        else:  # only the observed pixels carry data: a few CG steps from the last solution
            x = masked_solve(y, mask, transfer, rho, rho_z=rho * z, x0=x, iters=CG_ITERATIONS)
        turn = step % 8 if rotate else 0
        denoised = denoiser(_orient(x.astype(np.float32), turn), float(level))
        z = _orient(np.asarray(denoised, dtype=np.float64), turn, inverse=True)
    return z.astype(np.float32)


def _orient(x: np.ndarray, turn: int, inverse: bool = False) -> np.ndarray:
    """The ``turn``-th of the 8 dihedral transforms of an HxW(xC) image: ``turn % 4`` quarter
    turns, then a vertical flip if ``turn >= 4``; ``inverse`` undoes it."""
    if inverse:
        x = np.flipud(x) if turn >= 4 else x
        return np.ascontiguousarray(np.rot90(x, -(turn % 4), axes=(0, 1)))
    x = np.rot90(x, turn % 4, axes=(0, 1))
    return np.ascontiguousarray(np.flipud(x) if turn >= 4 else x)
