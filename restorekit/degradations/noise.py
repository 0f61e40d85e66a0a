"""Noise models: pure functions of a batch ``x`` [B, C, H, W], parameters and a generator.

Each parameter is a float (the same for every image) or a tensor ``[B]`` (one per image),
on the [0, 1] image scale: ``gaussian(x, 25 / 255, g)``. The output is not clipped: clipping
changes the noise statistics that denoisers are trained and evaluated on.

Every random draw goes through the ``torch.Generator`` passed in, never a global seed, so
that the same generator state gives the same noise. Draws happen on the generator's device
and move to ``x``'s, so a CPU generator serves a GPU batch too.
"""

from __future__ import annotations

import torch


def gaussian(x: torch.Tensor, sigma: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Additive white Gaussian noise: ``y = x + sigma * n``, n ~ N(0, 1)."""
    return x + _per_image(sigma, x) * _randn(x, generator)


def poisson(x: torch.Tensor, peak: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shot noise: ``y = Poisson(peak * x) / peak``; ``peak`` is the photon count of white.

    Negative values of ``x`` (possible after some blurs) count as 0 photons.
    """
    peak = _per_image(peak, x)
    if bool((peak <= 0).any()):
        raise ValueError("Poisson peak must be positive")
    rate = (x.clamp(min=0) * peak).to(generator.device)
    counts = torch.poisson(rate, generator=generator).to(x.device)
    return counts / peak


def poisson_gaussian(
    x: torch.Tensor,
    peak: float | torch.Tensor,
    sigma: float | torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Poisson-Gaussian (raw sensor) noise: shot noise at ``peak``, then read noise ``sigma``."""
    return gaussian(poisson(x, peak, generator), sigma, generator)


def salt_pepper(x: torch.Tensor, amount: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Impulse noise: each sample becomes 0 with probability amount/2, 1 with amount/2.

    Samples are hit independently (per channel, as scikit-image's ``random_noise`` and
    MATLAB's ``imnoise`` do), so the expected fraction of changed samples is ``amount``.
    """
    amount = _per_image(amount, x)
    u = _rand(x, generator)
    y = torch.where(u < amount / 2, torch.zeros_like(x), x)
    return torch.where((u >= amount / 2) & (u < amount), torch.ones_like(x), y)


def speckle(x: torch.Tensor, sigma: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Multiplicative noise: ``y = x + x * n``, n ~ N(0, sigma^2)."""
    return x + x * _per_image(sigma, x) * _randn(x, generator)


def _per_image(value: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A float or a [B] tensor -> a tensor that broadcasts over x: [] or [B, 1, 1, 1]."""
    value = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    if value.numel() == 1:
        return value.reshape(())
    if value.ndim == 1 and value.shape[0] == x.shape[0]:
        return value.view(-1, 1, 1, 1)
    raise ValueError(
        f"a noise parameter must be a number or one per image ([{x.shape[0]}]), got shape {tuple(value.shape)}"
    )


def _randn(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
    return n.to(x.device)


def _rand(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
    return u.to(x.device)
