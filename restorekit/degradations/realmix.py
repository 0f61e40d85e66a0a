"""``realmix``: a random mix of real-world noises, for blind denoisers of real photographs.

In the spirit of the degradation models of BSRGAN (Zhang et al., "Designing a Practical
Degradation Model for Deep Blind Image Super-Resolution", ICCV 2021) and SCUNet (Zhang et
al., "Practical Blind Image Denoising via Swin-Conv-UNet and Data Synthesis", 2022): each
image gets its own random choice and order of noises, then maybe JPEG. Per image:

- each of four noises is applied with probability 1/2 (at least one), in a random order:
  Gaussian sigma U(1, 50)/255 (white per channel 40 %, the same in all channels 30 %, or
  correlated across channels 30 %: covariance ``sigma^2 Q diag(d) Q'`` with ``Q`` a random
  rotation and ``d ~ U(0, 1)^3``, as BSRGAN); Poisson with peak ``10^U(1, 3)`` (on the
  luminance only, the same in all channels, half the time); speckle sigma U(0.05, 0.3);
  camera noise over the published range (:mod:`.camera`);
- then JPEG at quality U{30..95} with probability 3/4 (:mod:`.jpeg`).

Every draw comes from the generator, so the same generator state gives the same images.
"""

from __future__ import annotations

import torch

from restorekit.degradations import noise as _noise
from restorekit.degradations.camera import SHOT_RANGE, camera_noise
from restorekit.degradations.jpeg import jpeg_compress

GAUSSIAN_RANGE = (1 / 255, 50 / 255)
LOG10_PEAK = (1.0, 3.0)
SPECKLE_RANGE = (0.05, 0.3)
JPEG_QUALITY = (30, 95)
P_NOISE, P_JPEG = 0.5, 0.75


def real_mix(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Degrade each image of ``x`` [B, C, H, W] by its own random mix; not clipped unless JPEG ends it."""
    return torch.cat([_mix_one(x[i : i + 1], generator) for i in range(x.shape[0])])


def _mix_one(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:  # x: [1, C, H, W]
    steps = (_gaussian, _poisson, _speckle, _camera)
    use = _u(g, len(steps)) < P_NOISE
    if not use.any():
        use[int(torch.randint(len(steps), (1,), generator=g, device=g.device))] = True
    for k in torch.randperm(len(steps), generator=g, device=g.device).tolist():
        if use[k]:
            x = steps[k](x, g)
    if _u(g) < P_JPEG:
        low, high = JPEG_QUALITY
        x = jpeg_compress(x, int(torch.randint(low, high + 1, (1,), generator=g, device=g.device)))
    return x


def _gaussian(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    sigma = _between(g, *GAUSSIAN_RANGE)
    pick = float(_u(g))
    channels = x.shape[1]
    if pick < 0.4 or channels == 1:  # white, independent per channel
        return _noise.gaussian(x, sigma, g)
    z = _randn(g, (1, 1 if pick < 0.7 else channels, *x.shape[2:]), x)
    if pick < 0.7:  # the same noise in every channel
        return x + sigma * z
    q, _ = torch.linalg.qr(_randn(g, (channels, channels), x).double())  # a random rotation
    mix = (q * _u(g, channels).sqrt().to(q.device)).to(x.dtype)  # Q diag(sqrt d): covariance Q diag(d) Q'
    return x + sigma * torch.einsum("ij,bjhw->bihw", mix, z)


def _poisson(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    peak = 10 ** _between(g, *LOG10_PEAK)
    if x.shape[1] == 3 and _u(g) < 0.5:  # luminance only: the same noise in all channels
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        luma = (x * weights).sum(1, keepdim=True)
        return x + (_noise.poisson(luma, peak, g) - luma)
    return _noise.poisson(x, peak, g)


def _speckle(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return _noise.speckle(x, _between(g, *SPECKLE_RANGE), g)


def _camera(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return camera_noise(x, *SHOT_RANGE, g) if x.shape[1] in (1, 3) else x


def _u(g: torch.Generator, n: int = 1) -> torch.Tensor:
    return torch.rand(n, generator=g, device=g.device, dtype=torch.float64).cpu()


def _between(g: torch.Generator, low: float, high: float) -> float:
    return float(low + (high - low) * _u(g))


def _randn(g: torch.Generator, shape, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(shape, generator=g, device=g.device, dtype=like.dtype).to(like.device)
