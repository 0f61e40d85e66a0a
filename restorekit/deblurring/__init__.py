"""Deblurring: Wiener, Richardson-Lucy, and plug-and-play HQS with a learned denoiser (default).

>>> import restorekit as rk                                                   # doctest: +SKIP
>>> sharp = rk.deblur(blurred, "motion-15-45")                # pnp, sigma estimated  # doctest: +SKIP
>>> sharp = rk.deblur(blurred, k, sigma=2.55 / 255, method="wiener", border="circular")  # doctest: +SKIP

Every method solves for a circularly blurred image by FFT. ``border="pad"`` (the default,
for real photographs) first extends the image so that the circular model holds at its
pixels (:mod:`.borders`); ``border="circular"`` is for images that were blurred circularly,
as the benchmarks' are (``scipy.ndimage.convolve(..., mode="wrap")``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from restorekit.arrays import INTEGER_DTYPES, check_image, check_sigma, finite_image
from restorekit.errors import RestorekitError
from restorekit.io import from_float32

METHODS = ("pnp", "wiener", "rl")
BORDERS = ("pad", "circular")

__all__ = ["BORDERS", "METHODS", "deblur", "deblur_method", "DeblurRestorer"]


def deblur(image: np.ndarray, kernel: np.ndarray | str, sigma: float | None = None, method: str = "pnp", *,
           model: Any = None, iters: int | None = None, border: str = "pad",
           balance: float | None = None, nan: str = "refuse") -> np.ndarray:
    """Restore a sharp image from ``image`` blurred by ``kernel`` plus Gaussian noise.

    Args:
        image: HxW or HxWxC (C = 1 or 3); float in [0, 1], or uint8 / uint16.
        kernel: a 2-D array (normalised to sum 1) or a kernel spec / file for
            :func:`restorekit.degradations.load_kernel` (``"motion-15-45"``, ``"k.npz#levin3"``).
        sigma: the noise level on the [0, 1] scale; None estimates it from the image.
        method: ``pnp`` (HQS with a denoiser prior), ``wiener`` or ``rl`` (Richardson-Lucy).
        model: pnp's prior: a model name or path, a loaded conditioned network, a classical
            denoiser's name, or a callable ``(image, sigma) -> image``; None: the shipped
            default for the image's channels. Load it once (``resolve_prior``) for many images.
        iters: pnp's HQS iterations (default 8) or RL's (default from sigma); not for Wiener.
        border: ``pad`` (real photographs) or ``circular`` (circularly blurred images).
        balance: Wiener's regularisation weight (default from sigma); Wiener only.
        nan: ``"refuse"`` (default) or ``"fill"`` for images with NaN or infinite pixels:
            filled from their nearest finite neighbours for the restoration (a single NaN
            would spread over the whole image through the FFT) and put back after.

    Returns:
        An array of the input's shape: float input gives float output (same dtype), not
        clipped; uint8 / uint16 input gives the same dtype, clipped and rounded.
    """
    from restorekit.deblurring.borders import pad_for_deconvolution

    if method not in METHODS:
        raise RestorekitError(f"unknown deblurring method {method!r} (expected {', '.join(METHODS)})")
    if border not in BORDERS:
        raise RestorekitError(f"unknown border handling {border!r} (expected {', '.join(BORDERS)})")
    if iters is not None and (method == "wiener" or int(iters) < 1):
        raise RestorekitError("iters applies to pnp and rl and must be >= 1" if method != "wiener"
                              else "wiener takes no iterations (use balance)")
    if balance is not None and (method != "wiener" or not balance > 0):
        raise RestorekitError("balance applies to wiener only and must be positive")
    arr, bad = finite_image(check_image(image), nan)  # float32, HxW or HxWxC; bad: the NaN / inf filled
    k = _as_kernel(kernel)
    squeeze = arr.ndim == 3 and arr.shape[2] == 1
    x = arr[:, :, 0] if squeeze else arr  # HxW or HxWx3
    sigma = _noise_level(x, sigma)

    padded = pad_for_deconvolution(x, k) if border == "pad" else None
    y = x if padded is None else padded.image
    mask = None if padded is None else padded.mask
    if method == "wiener":
        from restorekit.deblurring.wiener import wiener

        out = wiener(y, k, sigma, balance=balance, mask=mask)
    elif method == "rl":
        from restorekit.deblurring.richardson_lucy import default_iterations, richardson_lucy

        out = richardson_lucy(y, k, iters or default_iterations(sigma), mask=mask)
    else:
        from restorekit.deblurring.pnp import ITERATIONS, pnp_hqs
        from restorekit.deblurring.priors import resolve_prior

        prior = resolve_prior(model, 1 if x.ndim == 2 else x.shape[2])
        out = pnp_hqs(y, k, sigma, prior, iters=iters or ITERATIONS, mask=mask)
    if padded is not None:
        out = padded.crop(out)
    out = np.ascontiguousarray(out, dtype=np.float32).reshape(arr.shape)
    if bad is not None:
        out[bad] = image[bad]  # the NaN / inf as they were
    return from_float32(out, image.dtype) if image.dtype in INTEGER_DTYPES else out.astype(image.dtype, copy=False)


def __getattr__(name: str):
    # The evaluate adapters live in .methods; load them on first use only.
    if name in ("deblur_method", "DeblurRestorer"):
        from restorekit.deblurring import methods

        return getattr(methods, name)
    raise AttributeError(f"module 'restorekit.deblurring' has no attribute {name!r}")


def _as_kernel(kernel: np.ndarray | str) -> np.ndarray:
    from restorekit.degradations.kernels import load_kernel, normalize

    if isinstance(kernel, str):
        return load_kernel(kernel)
    return normalize(np.asarray(kernel), "kernel")


def _noise_level(image: np.ndarray, sigma: float | None) -> float:
    sigma = check_sigma(sigma)
    if sigma is None:
        from restorekit.estimate import estimate_sigma

        return float(estimate_sigma(image))
    return sigma
