"""FastUNet: a noise-level-conditioned U-Net built for CPU speed.

Design (why it is fast): like FFDNet (Zhang et al. 2018), the image is first folded into
2x2 sub-images with ``pixel_unshuffle``, so every convolution runs on a quarter of the
pixels; like DRUNet (Zhang et al. 2021), a three-level U-Net of plain residual blocks (no
batch norm) gives a large receptive field cheaply, and a constant sigma map concatenated to
the input lets one network cover a whole range of noise levels (and lets the user turn its
strength up or down). With the default widths (32, 64, 128) and two blocks per level it
costs about 48k multiply-adds per pixel, against DnCNN-17's 555k.

The network predicts the noise (residual learning, as DnCNN): ``out = x - f(x, sigma)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from restorekit.models.layers import check_channels, check_input, fold_reparam, res_blocks, sigma_map
from restorekit.models.registry import register_model


class FastUNet(nn.Module):
    """Sigma-conditioned residual U-Net on 2x2-unshuffled images.

    Args:
        channels: 1 (gray) or 3 (colour).
        widths: feature widths of the three levels (at 1/2, 1/4 and 1/8 resolution).
        blocks: residual blocks per level (encoder and decoder each; the bottom level once):
            one number for every level, or three, one per level. The first level, at half
            resolution, holds most of the multiply-adds (59% at widths 48, 64, 128 and 4
            blocks), so fewer blocks there is the cheapest way to a faster network.
        rep: train the blocks' convolutions re-parameterisably (3x3 + 1x1 + identity
            branches, :class:`~restorekit.models.layers.RepConv3x3`); :meth:`fold` turns the
            network into the plain one of the same widths, with the same outputs.
    """

    conditioned = True
    unshuffle = 2  # 2x2 pixels folded into channels (see restorekit.models.adapt)

    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (32, 64, 128),
                 blocks: int | tuple[int, ...] = 2, rep: bool = False):
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"widths must give the three levels, got {widths}")
        per_level = (blocks,) * 3 if isinstance(blocks, int) else tuple(blocks)
        if len(per_level) != 3 or any(not isinstance(b, int) or b < 1 for b in per_level):
            raise ValueError(f"blocks must be a positive number or one per level (three), got {blocks}")
        w1, w2, w3 = widths
        b1, b2, b3 = per_level
        self.in_channels = check_channels(channels)
        self.multiple = 8  # unshuffle (2) x two stride-2 levels (4)
        self.head = nn.Conv2d(4 * channels + 1, w1, 3, padding=1)
        self.enc1 = res_blocks(w1, b1, rep=rep)
        self.down1 = nn.Conv2d(w1, w2, 2, stride=2)
        self.enc2 = res_blocks(w2, b2, rep=rep)
        self.down2 = nn.Conv2d(w2, w3, 2, stride=2)
        self.body = res_blocks(w3, b3, rep=rep)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = res_blocks(w2, b2, rep=rep)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = res_blocks(w1, b1, rep=rep)
        self.tail = nn.Conv2d(w1, 4 * channels, 3, padding=1)
        nn.init.kaiming_normal_(self.head.weight, nonlinearity="relu")
        nn.init.zeros_(self.tail.weight)  # start as the identity map: out = x
        nn.init.zeros_(self.tail.bias)

    def fold(self) -> "FastUNet":
        """The plain network (``rep=False``) computing the same function: branches summed."""
        fold_reparam(self)
        if hasattr(self, "arch_args"):
            self.arch_args = {**self.arch_args, "rep": False}
        return self

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        check_input(self, x, sigma)
        s = F.pixel_unshuffle(x, 2)  # [B, 4C, H/2, W/2]
        x1 = self.enc1(self.head(torch.cat([s, sigma_map(sigma, s)], dim=1)))  # [B, w1, H/2, W/2]
        x2 = self.enc2(self.down1(x1))  # [B, w2, H/4, W/4]
        x3 = self.body(self.down2(x2))  # [B, w3, H/8, W/8]
        y = self.dec2(self.up2(x3) + x2)
        y = self.dec1(self.up1(y) + x1)
        noise = F.pixel_shuffle(self.tail(y), 2)  # [B, C, H, W]
        return x - noise


@register_model("fastunet")
def fastunet(channels: int = 1, widths: tuple[int, ...] | list[int] = (32, 64, 128),
             blocks: int | tuple[int, ...] | list[int] = 2, rep: bool = False) -> FastUNet:
    per_level = blocks if isinstance(blocks, int) else tuple(blocks)
    return FastUNet(channels=channels, widths=tuple(widths), blocks=per_level, rep=rep)
