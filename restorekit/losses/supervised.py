"""Supervised losses: ``loss(restored, clean) -> scalar``."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """A smooth L1: sqrt((x - y)^2 + eps^2), as in LapSRN/MPRNet."""
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


PSNR_FLOOR = (1 / 255) ** 2  # an MSE below one grey level squared counts as that much


def psnr_loss(pred: torch.Tensor, target: torch.Tensor, floor: float = PSNR_FLOOR) -> torch.Tensor:
    """Minus each patch's PSNR (dB, peak 1), averaged over the batch, as HINet's PSNR loss.

    Mean squared error lets the noisiest patches dominate (their error is largest); the
    logarithm weights every patch by its own error, so every noise level counts alike in
    dB, as the tables average them. The floor keeps nearly clean patches (sigma near 0)
    from counting far more than the rest.
    """
    mse = (pred - target).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(mse + floor).mean()


LOSSES: dict[str, Loss] = {"mse": F.mse_loss, "l1": F.l1_loss, "charbonnier": charbonnier, "psnr": psnr_loss}
