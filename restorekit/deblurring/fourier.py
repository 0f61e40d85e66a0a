"""Circular convolution in the Fourier domain, for numpy images ``HxW`` or ``HxWxC``.

Every deconvolution here (Wiener, Richardson-Lucy, the HQS data step) assumes periodic
(circular) blur, where the blur is a product with the kernel's transfer function (OTF).
The OTF comes from :func:`restorekit.degradations.kernel_otf`, so that it matches the benchmark
blur (``scipy.ndimage.convolve(..., mode="wrap")``) pixel for pixel, also for even kernels.
Images that are not circular are made so by :mod:`restorekit.deblurring.borders` first.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

_AXES = (0, 1)  # the spatial axes of HxW and HxWxC


def otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The kernel's transfer function for an ``(H, W)`` image: complex128 ``[H, W//2 + 1]``."""
    import torch

    from restorekit.degradations import kernel_otf

    k = torch.from_numpy(np.asarray(kernel, dtype=np.float64))
    return kernel_otf(k, tuple(shape)).numpy()


def rfft(x: np.ndarray) -> np.ndarray:
    """rfft2 over the spatial axes: ``HxW(xC)`` -> ``[H, W//2 + 1(, C)]`` complex."""
    return scipy.fft.rfft2(x, axes=_AXES)


def irfft(spectrum: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`rfft` for an image of spatial size ``shape`` (H, W); float64."""
    return scipy.fft.irfft2(spectrum, s=tuple(shape), axes=_AXES)


def per_channel(transfer: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``[H, W//2 + 1]`` -> a view that broadcasts over the spectrum ``like`` (gray or colour)."""
    return transfer if like.ndim == 2 else transfer[:, :, None]


def convolve(x: np.ndarray, transfer: np.ndarray) -> np.ndarray:
    """Circular blur of ``x`` (HxW or HxWxC) by the OTF ``transfer`` of its size; float64."""
    spectrum = rfft(x)
    return irfft(spectrum * per_channel(transfer, spectrum), x.shape[:2])


def correlate(x: np.ndarray, transfer: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`convolve` (circular correlation with the kernel); float64."""
    spectrum = rfft(x)
    return irfft(spectrum * per_channel(np.conj(transfer), spectrum), x.shape[:2])


def laplacian_otf(shape: tuple[int, int]) -> np.ndarray:
    """Transfer function of the 4-neighbour discrete Laplacian (the regulariser of skimage's Wiener)."""
    lap = np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])
    return otf(lap, shape)
