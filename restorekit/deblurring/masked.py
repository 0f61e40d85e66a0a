"""Regularised least squares with a masked data term, by conjugate gradients (real borders).

    Wiener:          minimise ||m (y - k * x)||^2 + balance ||l * x||^2   (l: the Laplacian)
    HQS data step:   minimise ||m (y - k * x)||^2 + rho ||x - z||^2      (* circular)

i.e. solve ``(K^T M K + P) x = K^T M y + rho z``, with ``M`` the mask of observed pixels
(:mod:`restorekit.deblurring.borders`) and ``P`` circulant (``balance L^T L``, or ``rho I``
with the ``rho z`` term). Without the mask this is one division in the Fourier domain; with
it no FFT diagonalises the system, so we run conjugate gradients preconditioned by exactly
that division, ``(|K|^2 + P)^-1``, which is exact everywhere but near the mask's edge.
Started from the padded image's unmasked solution, it converges far faster than the
fixed point "fill the unknown pixels with the current blur, divide again" (EM): on a
200x200 crop blurred by Levin's 23x23 kernel 8, 25 CG steps give 27.5 dB in the 20-pixel
band along the edges where 100 EM steps give 24.2 dB.
"""

from __future__ import annotations

import numpy as np

from restorekit.deblurring import fourier

ITERATIONS = 25
TOLERANCE = 1e-5  # relative residual at which CG stops


def masked_solve(y: np.ndarray, mask: np.ndarray, transfer: np.ndarray, penalty: np.ndarray | float, *,
                 rho_z: np.ndarray | None = None, x0: np.ndarray | None = None,
                 iters: int = ITERATIONS, tol: float = TOLERANCE) -> np.ndarray:
    """Solve ``(K^T M K + P) x = K^T M y + rho_z`` for ``x`` (float64, ``y``'s shape).

    Args:
        y: the padded observation, HxW or HxWxC (values off the mask are ignored).
        mask: HxW, 1 where ``y`` is observed, 0 on the extension.
        transfer: the kernel's OTF for HxW, ``[H, W//2 + 1]``.
        penalty: ``P``'s spectrum (``[H, W//2 + 1]`` or a scalar), e.g. ``rho`` or
            ``balance * |L|^2``.
        rho_z: ``rho * z`` (HxW(xC)), the HQS step's pull towards the denoised image.
        x0: the starting point (default: ``(K^T K + P)^-1 b``, the unmasked solution with
            the extension read as 0; callers do better with a solution of their own).
    """
    y = np.asarray(y, dtype=np.float64)
    shape = y.shape[:2]
    m = np.asarray(mask, dtype=np.float64)
    m = m if y.ndim == 2 else m[:, :, None]
    denominator = fourier.per_channel(np.abs(transfer) ** 2 + penalty, y)  # |K|^2 + P
    circulant_p = fourier.per_channel(np.broadcast_to(penalty, transfer.shape), y)

    def apply_a(v):  # (K^T M K + P) v
        spectrum = fourier.rfft(v)
        blurred = fourier.irfft(spectrum * fourier.per_channel(transfer, spectrum), shape)
        return fourier.correlate(m * blurred, transfer) + fourier.irfft(circulant_p * spectrum, shape)

    def precondition(v):  # (K^T K + P)^-1 v
        return fourier.irfft(fourier.rfft(v) / denominator, shape)

    b = fourier.correlate(m * y, transfer)
    if rho_z is not None:
        b = b + rho_z
    x = precondition(b) if x0 is None else np.asarray(x0, dtype=np.float64).copy()
    r = b - apply_a(x)
    norm_b = np.linalg.norm(b) or 1.0
    if np.linalg.norm(r) <= tol * norm_b:
        return x
    s = precondition(r)
    p = s.copy()
    rs = np.vdot(r, s).real
    for _ in range(int(iters)):
        ap = apply_a(p)
        step = rs / np.vdot(p, ap).real
        x += step * p
        r -= step * ap
        if np.linalg.norm(r) <= tol * norm_b:
            break
        s = precondition(r)
        rs_new = np.vdot(r, s).real
        p = s + (rs_new / rs) * p
        rs = rs_new
    return x
