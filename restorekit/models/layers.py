"""Small building blocks shared by the architectures (no I/O, no registry)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from restorekit.errors import RestorekitError


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
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


def res_blocks(width: int, n: int, bias: bool = True) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(width, bias) for _ in range(n)))


def sigma_map(sigma: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """Broadcast a noise level per image (``[B]``, ``[1]``, ``[]``, ``[B, 1, 1, 1]`` or a float)
    to ``[B, 1, H, W]`` at ``x``'s size; a ``[B, 1, H, W]`` map (spatially varying noise)
    passes through. The shapes are checked by ``check_input`` first.
    """
    b, _, h, w = x.shape
    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
    if s.dim() == 4 and s.shape[-2:] != (1, 1):
        return s
    return s.reshape(-1, 1, 1, 1).expand(b, 1, h, w)


def check_channels(channels: int) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (colour), got {channels}")
    return channels


def check_input(model: nn.Module, x: torch.Tensor, sigma: torch.Tensor | float | None = None,
                sigma_maps: bool = False) -> None:
    """One clear ``RestorekitError`` for an input that ``model`` cannot take, instead of a
    shape mismatch deep inside torch (in a U-Net's skip connections, say).

    Checks ``x`` against ``model.in_channels`` and ``model.multiple`` and, for a
    noise-conditioned model, that ``sigma`` is one value or one per image (or, with
    ``sigma_maps``, a ``[B, 1, H, W]`` map). Every architecture calls it first in ``forward``.
    """
    name = getattr(model, "arch", None) or type(model).__name__.lower()
    c, m = model.in_channels, model.multiple
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != c:
        got = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise RestorekitError(f"{name} takes images as [B, {c}, H, W], got {got}")
    b, _, h, w = x.shape
    if h % m or w % m:
        raise RestorekitError(f"{name} needs H and W to be multiples of {m}, got {h}x{w}; "
                              "restorekit.denoise pads for you")
    if not model.conditioned:
        return  # sigma is ignored
    if sigma is None:
        raise RestorekitError(f"{name} is noise-conditioned and needs sigma; "
                              "restorekit.denoise estimates it when sigma=None")
    try:
        s = torch.as_tensor(sigma)
    except (TypeError, ValueError, RuntimeError):
        raise RestorekitError(f"{name}: sigma must be a number or a tensor, got {type(sigma).__name__}") from None
    if sigma_maps and s.dim() == 4 and s.shape[-2:] != (1, 1):
        if tuple(s.shape) != (b, 1, h, w):
            raise RestorekitError(f"{name}: a sigma map must be [{b}, 1, {h}, {w}], got {list(s.shape)}")
    elif s.numel() not in (1, b) or (s.dim() == 4 and s.shape[1:] != (1, 1, 1)):
        maps = f" or a [{b}, 1, {h}, {w}] map" if sigma_maps else ""
        raise RestorekitError(f"{name} takes sigma as one value or one per image ([{b}]){maps}, "
                              f"got shape {list(s.shape)}")
