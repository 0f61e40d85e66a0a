"""Supervised losses: ``loss(restored, clean) -> scalar``."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """A smooth L1: sqrt((x - y)^2 + eps^2), as in LapSRN/MPRNet."""
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


LOSSES: dict[str, Loss] = {"mse": F.mse_loss, "l1": F.l1_loss, "charbonnier": charbonnier}
