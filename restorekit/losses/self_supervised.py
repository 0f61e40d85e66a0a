"""Self-supervised objectives: training from noisy images alone, never a clean one.

Every objective here and in :mod:`.supervised` has one signature::

    objective(net, batch, generator) -> scalar loss

where ``net(x, sigma)`` runs the model, ``batch`` has ``noisy``, ``clean`` and ``sigma``
(self-supervised objectives never read ``clean``) and ``generator`` draws any masks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def n2v_mask(noisy: torch.Tensor, generator: torch.Generator, ratio: float = 0.02, radius: int = 2):
    """Noise2Void's blind-spot masking (Krull et al., CVPR 2019).

    A fraction ``ratio`` of the pixels of each image are replaced by a random other pixel of
    their (2 radius + 1)^2 neighbourhood, so the network cannot learn the identity there.
    Returns (masked input [B, C, H, W], mask [B, 1, H, W] of the replaced pixels).
    """
    b, c, h, w = noisy.shape
    mask = torch.rand(b, 1, h, w, generator=generator) < ratio
    # offsets in [-radius, radius]^2 \ {(0, 0)}
    dy = torch.randint(-radius, radius + 1, (b, 1, h, w), generator=generator)
    dx = torch.randint(-radius, radius + 1, (b, 1, h, w), generator=generator)
    zero = (dy == 0) & (dx == 0)
    dx = torch.where(zero, torch.where(torch.rand(b, 1, h, w, generator=generator) < 0.5, 1, -1), dx)
    ys = (torch.arange(h).view(1, 1, h, 1) + dy).clamp(0, h - 1)
    xs = (torch.arange(w).view(1, 1, 1, w) + dx).clamp(0, w - 1)
    src = (ys * w + xs).expand(b, c, h, w).reshape(b, c, -1)
    neighbour = noisy.reshape(b, c, -1).gather(2, src.to(noisy.device)).reshape(b, c, h, w)
    mask = mask.to(noisy.device)
    return torch.where(mask, neighbour, noisy), mask


def noise2void(net, batch, generator: torch.Generator) -> torch.Tensor:
    """MSE between the output at the blind spots and the noisy input there."""
    masked, mask = n2v_mask(batch.noisy, generator)
    out = net(masked, batch.sigma)
    err = (out - batch.noisy) ** 2 * mask
    return err.sum() / (mask.sum() * batch.noisy.shape[1]).clamp_min(1)


def neighbor_subsample(noisy: torch.Tensor, generator: torch.Generator):
    """Neighbor2Neighbor's random neighbour sub-sampler (Huang et al., CVPR 2021).

    In each 2x2 cell one pixel goes to g1 and a different, adjacent one to g2: two
    half-resolution images with independent noise and nearly the same signal.
    Returns (g1, g2, choice): g1 and g2 [B, C, H/2, W/2], and the cell indices drawn.
    """
    b, c, h, w = noisy.shape
    cells = F.pixel_unshuffle(noisy, 2).reshape(b, c, 4, h // 2, w // 2)  # the 4 pixels of each cell
    # cell layout 0 1 / 2 3; adjacent pairs (edge-sharing), drawn per cell
    pairs = torch.tensor([[0, 1], [0, 2], [1, 0], [1, 3], [2, 0], [2, 3], [3, 1], [3, 2]])
    choice = pairs[torch.randint(8, (b, 1, 1, h // 2, w // 2), generator=generator)]  # [B,1,1,h,w,2]
    choice = choice.to(noisy.device).expand(b, c, 1, h // 2, w // 2, 2)
    g1 = cells.gather(2, choice[..., 0]).squeeze(2)
    g2 = cells.gather(2, choice[..., 1]).squeeze(2)
    return g1, g2, choice


def neighbor2neighbor(net, batch, generator: torch.Generator, gamma: float = 2.0) -> torch.Tensor:
    """||f(g1(y)) - g2(y)||^2 + gamma ||f(g1(y)) - g2(y) - (g1(f(y)) - g2(f(y)))||^2 (their eq. 9)."""
    g1, g2, choice = neighbor_subsample(batch.noisy, generator)
    out = net(g1, batch.sigma)
    with torch.no_grad():
        full = net(batch.noisy, batch.sigma)
        b, c, h, w = full.shape
        cells = F.pixel_unshuffle(full, 2).reshape(b, c, 4, h // 2, w // 2)
        f1 = cells.gather(2, choice[..., 0]).squeeze(2)
        f2 = cells.gather(2, choice[..., 1]).squeeze(2)
    diff = out - g2
    return (diff**2).mean() + gamma * ((diff - (f1 - f2)) ** 2).mean()


OBJECTIVES = {"n2v": noise2void, "neighbor2neighbor": neighbor2neighbor}
