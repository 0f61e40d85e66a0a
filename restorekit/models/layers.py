"""Small building blocks shared by the architectures (no I/O, no registry)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from restorekit.errors import RestorekitError


def conv3x3(cin: int, cout: int, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    """A 3x3 convolution that keeps the size (stride 1) or halves it (stride 2)."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)


class RepConv3x3(nn.Module):
    """A 3x3 convolution trained as three parallel branches and run as one.

    While training: ``conv3x3(x) + conv1x1(x) + x`` (the identity only where asked), the
    RepVGG recipe without batch norm (Ding et al., CVPR 2021; in image restoration as ECB,
    Zhang et al. 2021): the extra branches ease optimisation. All three are linear, so
    :meth:`fold` sums them into the single 3x3 convolution that inference runs, with the
    same outputs and the cost of a plain layer.
    """

    def __init__(self, width: int, bias: bool = True, identity: bool = True):
        super().__init__()
        self.conv3 = conv3x3(width, width, bias)
        self.conv1 = nn.Conv2d(width, width, 1, bias=bias)
        self.identity = identity

    @property
    def weight(self) -> torch.Tensor:
        """The folded 3x3 kernel (what :meth:`fold` puts in the plain convolution)."""
        w = self.conv3.weight + F.pad(self.conv1.weight, (1, 1, 1, 1))
        if self.identity:
            eye = torch.eye(w.shape[0], dtype=w.dtype, device=w.device)
            w = w + F.pad(eye[:, :, None, None], (1, 1, 1, 1))
        return w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(x) + self.conv1(x)
        return y + x if self.identity else y

    @torch.no_grad()
    def unfold(self, conv: nn.Conv2d) -> RepConv3x3:
        """Take over a trained plain 3x3 ``conv``: the inverse of :meth:`fold`, the same outputs.

        The 3x3 branch gets ``conv``'s kernel less the identity, the 1x1 branch starts at
        zero; training then goes on in the branched form (how a plain model continues with
        ``rep``).
        """
        eye = torch.eye(conv.out_channels, dtype=conv.weight.dtype, device=conv.weight.device)
        self.conv3.weight.copy_(conv.weight - (F.pad(eye[:, :, None, None], (1, 1, 1, 1)) if self.identity else 0))
        self.conv1.weight.zero_()
        if conv.bias is not None:
            self.conv3.bias.copy_(conv.bias)
            self.conv1.bias.zero_()
        return self

    def fold(self) -> nn.Conv2d:
        width = self.conv3.out_channels
        conv = conv3x3(width, width, self.conv3.bias is not None).to(self.conv3.weight)
        with torch.no_grad():
            conv.weight.copy_(self.weight)
            if conv.bias is not None:
                conv.bias.copy_(self.conv3.bias + self.conv1.bias)
        return conv


class ResBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` without batch norm, as in DRUNet (Zhang et al. 2021).

    The second conv starts at zero, so a fresh block is the identity: deep stacks of blocks
    then train from scratch without a warm-up (the "zero-init residual" trick). With
    ``rep``, both convolutions are :class:`RepConv3x3` (the first with an identity branch)
    until :func:`fold_reparam` turns them into plain ones.
    """

    def __init__(self, width: int, bias: bool = True, rep: bool = False):
        super().__init__()
        if rep:
            self.conv1, self.conv2 = RepConv3x3(width, bias), RepConv3x3(width, bias, identity=False)
            first, second = self.conv1.conv3, [self.conv2.conv3, self.conv2.conv1]
        else:
            self.conv1, self.conv2 = conv3x3(width, width, bias), conv3x3(width, width, bias)
            first, second = self.conv1, [self.conv2]
        nn.init.kaiming_normal_(first.weight, nonlinearity="relu")
        for conv in second:
            nn.init.zeros_(conv.weight)
        for conv in self.modules():
            if isinstance(conv, nn.Conv2d) and conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


def res_blocks(width: int, n: int, bias: bool = True, rep: bool = False) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(width, bias, rep) for _ in range(n)))


def fold_reparam(model: nn.Module) -> nn.Module:
    """Replace every :class:`RepConv3x3` in ``model`` by its folded 3x3 convolution, in place;
    the outputs stay the same (to float rounding) and inference gets the plain layer's cost."""
    for name, child in list(model.named_children()):
        if isinstance(child, RepConv3x3):
            setattr(model, name, child.fold())
        else:
            fold_reparam(child)
    return model


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
