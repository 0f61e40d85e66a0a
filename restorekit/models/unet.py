"""A noise-level-conditioned U-Net in the style of DRUNet (Zhang et al. 2021, "Plug-and-play
image restoration with deep denoiser prior").

The input is the image concatenated with a constant map of its noise level sigma
(``[B, C + 1, H, W]``), so one network covers a range of noise levels and the user can turn
its strength up or down by changing sigma. Levels are residual blocks without batch norm;
down-sampling is a 2x2 stride-2 conv, up-sampling a 2x2 stride-2 transposed conv, and skips
are added (not concatenated), as in DRUNet. The output is residual: ``x - f(x, sigma)``.
"""

from __future__ import annotations

import torch
from torch import nn

from restorekit.models.layers import check_channels, check_input, conv3x3, res_blocks, sigma_map
from restorekit.models.registry import register_model


class UNet(nn.Module):
    """Args:
    channels: 1 (gray) or 3 (colour).
    widths: feature width of each level, full resolution first (DRUNet: 64, 128, 256, 512).
    blocks: residual blocks per level in the encoder, the bottom and the decoder (DRUNet: 4).
    """

    conditioned = True

    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (32, 64, 128, 256), blocks: int = 2):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2:
            raise ValueError(f"widths needs at least 2 levels, got {widths}")
        self.in_channels = check_channels(channels)
        self.multiple = 2 ** (len(widths) - 1)
        # DRUNet uses bias-free convs throughout; so do we.
        self.head = nn.Conv2d(channels + 1, widths[0], 3, padding=1, bias=False)
        self.down = nn.ModuleList(
            nn.Sequential(res_blocks(widths[i], blocks, bias=False),
                          nn.Conv2d(widths[i], widths[i + 1], 2, stride=2, bias=False))
            for i in range(len(widths) - 1)
        )
        self.body = res_blocks(widths[-1], blocks, bias=False)
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2, bias=False),
                          res_blocks(widths[i], blocks, bias=False))
            for i in range(len(widths) - 1)
        )
        self.tail = conv3x3(widths[0], channels, bias=False)
        nn.init.kaiming_normal_(self.head.weight, nonlinearity="relu")
        for m in [*self.down.modules(), *self.up.modules()]:
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.kernel_size == (2, 2):
                nn.init.kaiming_normal_(m.weight, nonlinearity="linear")

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        check_input(self, x, sigma, sigma_maps=True)
        skips = [self.head(torch.cat([x, sigma_map(sigma, x)], dim=1))]  # [B, w0, H, W]
        for down in self.down:
            skips.append(down(skips[-1]))  # level i: [B, w_i, H / 2**i, W / 2**i]
        y = self.body(skips[-1])
        for i in reversed(range(len(self.up))):
            y = self.up[i](y + skips[i + 1])
        return x - self.tail(y + skips[0])


@register_model("unet")
def unet(channels: int = 1, widths: tuple[int, ...] | list[int] = (32, 64, 128, 256), blocks: int = 2) -> UNet:
    return UNet(channels=channels, widths=tuple(widths), blocks=blocks)
