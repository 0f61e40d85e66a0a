"""Small building blocks shared by the architectures (no I/O, no registry)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(cin: int, cout: int, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    """A 3x3 convolution that keeps the size (stride 1) or halves it (stride 2)."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)


class ResBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` without batch norm, as in DRUNet (Zhang et al. 2021).

    The second conv starts at zero, so a fresh block is the identity: deep stacks of blocks
    then train from scratch without a warm-up (the "zero-init residual" trick).
    """

    def __init__(self, width: int, bias: bool = True):
        super().__init__()
        self.conv1 = conv3x3(width, width, bias)
        self.conv2 = conv3x3(width, width, bias)
        nn.init.kaiming_normal_(self.conv1.weight, nonlinearity="relu")
        nn.init.zeros_(self.conv2.weight)
        for conv in (self.conv1, self.conv2):
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


def res_blocks(width: int, n: int, bias: bool = True) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(width, bias) for _ in range(n)))


def sigma_map(sigma: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """Broadcast a noise level per image (``[B]``, ``[]`` or a float) to ``[B, 1, H, W]``.

    A ``[B, 1, H, W]`` map is passed through unchanged (spatially varying noise).
    """
    b, _, h, w = x.shape
    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
    if s.dim() == 4:
        if s.shape != (b, 1, h, w):
            raise ValueError(f"sigma map must be [{b}, 1, {h}, {w}], got {list(s.shape)}")
        return s
    if s.numel() not in (1, b):
        raise ValueError(f"sigma must hold 1 or {b} values (one per image), got {s.numel()}")
    return s.reshape(-1, 1, 1, 1).expand(b, 1, h, w)


def check_channels(channels: int) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (colour), got {channels}")
    return channels


def check_multiple(x: torch.Tensor, multiple: int) -> None:
    """A clear error instead of a shape mismatch deep inside a U-Net's skip connections."""
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"input is {h}x{w}; H and W must be multiples of {multiple} "
                         "(pad with restorekit.infer.tiling.pad_to_multiple, or use restorekit.denoise)")
