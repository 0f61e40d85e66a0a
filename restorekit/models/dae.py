"""A convolutional denoising autoencoder with skip connections (a small U-Net).

Encoder: at each of ``levels`` levels a stride-2 conv halves the size and doubles the width;
decoder: a transposed conv (or a 1x1 conv + pixel shuffle) doubles the size back, the
encoder's features at that size are concatenated (skip connection) and fused by two convs.
The network predicts the noise: ``out = x - f(x)`` (residual learning, as DnCNN), which
makes the identity easy to represent and training from scratch quick.
"""

from __future__ import annotations

import torch
from torch import nn

from restorekit.models.layers import check_channels, check_input, conv3x3
from restorekit.models.registry import register_model


def _two_convs(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(conv3x3(cin, cout), nn.ReLU(inplace=True), conv3x3(cout, cout), nn.ReLU(inplace=True))


def _up(cin: int, cout: int, mode: str) -> nn.Module:
    if mode == "transpose":
        return nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, stride=2), nn.ReLU(inplace=True))
    # pixel shuffle: 1x1 conv to 4 * cout channels, then rearrange them into a 2x2 neighbourhood
    return nn.Sequential(nn.Conv2d(cin, 4 * cout, 1), nn.PixelShuffle(2), nn.ReLU(inplace=True))


class DAE(nn.Module):
    """Args:
    channels: 1 (gray) or 3 (colour).
    features: width at full resolution; level i has ``features * 2**i``.
    levels: number of stride-2 down-samplings (2 or 3); H and W must be multiples of ``2**levels``.
    up: ``"transpose"`` (transposed conv) or ``"shuffle"`` (pixel shuffle) up-sampling.
    """

    conditioned = False

    def __init__(self, channels: int = 1, features: int = 32, levels: int = 3, up: str = "transpose"):
        super().__init__()
        if levels not in (1, 2, 3, 4):
            raise ValueError(f"levels must be 1 to 4, got {levels}")
        if up not in ("transpose", "shuffle"):
            raise ValueError(f"up must be 'transpose' or 'shuffle', got {up!r}")
        self.in_channels = check_channels(channels)
        self.multiple = 2**levels
        widths = [features * 2**i for i in range(levels + 1)]
        self.head = _two_convs(channels, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(conv3x3(widths[i], widths[i + 1], stride=2), nn.ReLU(inplace=True),
                          conv3x3(widths[i + 1], widths[i + 1]), nn.ReLU(inplace=True))
            for i in range(levels)
        )
        self.up = nn.ModuleList(_up(widths[i + 1], widths[i], up) for i in range(levels))
        self.fuse = nn.ModuleList(_two_convs(2 * widths[i], widths[i]) for i in range(levels))
        self.tail = conv3x3(widths[0], channels)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        check_input(self, x)
        skips = [self.head(x)]  # [B, f, H, W]
        for down in self.down:
            skips.append(down(skips[-1]))  # level i: [B, f * 2**i, H / 2**i, W / 2**i]
        y = skips.pop()
        for i in reversed(range(len(self.up))):
            y = self.fuse[i](torch.cat([self.up[i](y), skips[i]], dim=1))
        return x - self.tail(y)


@register_model("dae")
def dae(channels: int = 1, features: int = 32, levels: int = 3, up: str = "transpose") -> DAE:
    return DAE(channels=channels, features=features, levels=levels, up=up)
