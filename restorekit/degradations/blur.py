"""Blur: a true 2-D convolution of every channel of a ``[B, C, H, W]`` batch with one kernel.

The convention is scipy's, so that benchmarks made with ``scipy.ndimage.convolve`` (the
deblurring papers' code) and this module give the same images:

    blur(x, k, mode)[..., i, j] == scipy.ndimage.convolve(x[b, c], k, mode=SCIPY_MODE[mode])[i, j]
    out[i] = sum_m k[m] * x[i - m + size // 2]      (per axis; also for even sizes)

Modes: ``circular`` (scipy ``wrap``; the benchmarks' periodic blur, what FFT deblurring
assumes), ``reflect`` (scipy ``reflect``, edge pixel repeated: d c b a | a b c d) and
``replicate`` (scipy ``nearest``), the last two for real photos.

Speed (one CPU thread): ``conv2d`` costs grow with the kernel's area while the FFT's do not,
but the FFT is slow on sizes with large prime factors (481 = 13 * 37). Measured: 256x256,
kernel 9x9: conv 1.0 ms, FFT 0.4 ms; 481x321 RGB, 9x9: conv 7.6 ms, FFT 19 ms; 15x15: 18 ms
both; 25x25: conv 47 ms, FFT 19 ms. So circular blur uses the FFT from 15x15 up (area
>= 225), conv2d below, and the other modes always conv2d.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MODES = ("circular", "reflect", "replicate")
SCIPY_MODE = {"circular": "wrap", "reflect": "reflect", "replicate": "nearest"}
_NUMPY_PAD = {"circular": "wrap", "reflect": "symmetric", "replicate": "edge"}
_FFT_MIN_AREA = 225  # kernels this large and larger blur faster through the FFT (see above)


def blur(x: torch.Tensor, kernel: np.ndarray | torch.Tensor, mode: str = "circular") -> torch.Tensor:
    """Convolve each channel of ``x`` [B, C, H, W] with the 2-D ``kernel``; same shape out.

    Differentiable in ``x``. Works for any kernel size, also larger than the image.
    """
    if mode not in MODES:
        raise ValueError(f"unknown blur mode {mode!r} (expected one of {', '.join(MODES)})")
    if x.ndim != 4:
        raise ValueError(f"blur expects a [B, C, H, W] tensor, got shape {tuple(x.shape)}")
    k = kernel if isinstance(kernel, torch.Tensor) else torch.tensor(np.asarray(kernel))  # a copy
    k = k.to(device=x.device, dtype=x.dtype)
    if k.ndim != 2:
        raise ValueError(f"blur expects a 2-D kernel, got shape {tuple(k.shape)}")
    if mode == "circular" and k.numel() >= _FFT_MIN_AREA:
        return _blur_fft(x, k)
    return _blur_conv(x, k, mode)


def _blur_conv(x: torch.Tensor, k: torch.Tensor, mode: str) -> torch.Tensor:
    batch, channels, height, width = x.shape
    kh, kw = k.shape
    # out[i] = sum_m k[m] x[i - m + c] with c = size // 2. conv2d correlates, so flip the kernel:
    # out[i] = sum_m' kf[m'] xp[i + m'] needs xp to start size - 1 - c pixels before x.
    rows = _padded_index(height, kh - 1 - kh // 2, kh // 2, mode, x.device)
    cols = _padded_index(width, kw - 1 - kw // 2, kw // 2, mode, x.device)
    xp = x.reshape(batch * channels, 1, height, width).index_select(2, rows).index_select(3, cols)
    out = F.conv2d(xp, k.flip(0, 1)[None, None])  # [B*C, 1, H, W]
    return out.reshape(batch, channels, height, width)


def _padded_index(n: int, before: int, after: int, mode: str, device) -> torch.Tensor:
    """Indices into an axis of length n that pad it by (before, after) in ``mode``, any width."""
    index = np.pad(np.arange(n), (before, after), mode=_NUMPY_PAD[mode])
    return torch.from_numpy(index).to(device)


def _blur_fft(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    height, width = x.shape[-2:]
    otf = kernel_otf(k, (height, width))  # [H, W//2 + 1] complex
    return torch.fft.irfft2(torch.fft.rfft2(x) * otf, s=(height, width))


def kernel_otf(kernel: np.ndarray | torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """The kernel's transfer function for circular blur of an ``shape`` (H, W) image: rfft2 of its PSF.

    ``irfft2(rfft2(x) * kernel_otf(k, x.shape[-2:]))`` equals ``blur(x, k, "circular")``;
    deconvolution in the Fourier domain (Wiener, HQS) divides by it. The PSF puts ``k[m]``
    at ``(m - size // 2) mod (H, W)``; kernels larger than the image wrap around and add up.
    """
    k = kernel if isinstance(kernel, torch.Tensor) else torch.tensor(np.asarray(kernel))
    height, width = shape
    kh, kw = k.shape
    rows = (torch.arange(kh, device=k.device) - kh // 2) % height
    cols = (torch.arange(kw, device=k.device) - kw // 2) % width
    flat = (rows[:, None] * width + cols[None, :]).reshape(-1)
    psf = torch.zeros(height * width, dtype=k.dtype, device=k.device)
    psf = psf.index_add(0, flat, k.reshape(-1)).reshape(height, width)
    return torch.fft.rfft2(psf)
