"""Two noise-conditioned networks behind one: each image goes to the one trained for its level.

One network trained over sigma 0-75 shares its capacity between all levels, and is weakest
at the low end (Gnanasambandam & Chan, "One size fits all", ICML 2020); the same network
trained on from there over a narrow low range does better there and worse above it. As
KAIR picks a DnCNN-S per sigma, :class:`LevelRouted` sends an image told a level below
``below`` to ``low`` and every other image to ``high``: one network runs per image, so the
time is that of one. Where the pair comes from (which shipped model has a low-level
partner, and its threshold) is :data:`restorekit.infer.network.LOW_LEVEL_MODELS`.

>>> import torch
>>> from restorekit.models import create_model
>>> low, high = (create_model("fastunet", channels=1, widths=[8, 8, 8], blocks=[1, 1, 1]) for _ in range(2))
>>> net = LevelRouted(low, high, below=20 / 255)
>>> net(torch.rand(2, 1, 16, 16), torch.tensor([15 / 255, 25 / 255])).shape
torch.Size([2, 1, 16, 16])
"""

from __future__ import annotations

import torch
from torch import nn

from restorekit.models.layers import check_input


class LevelRouted(nn.Module):
    """``low(x, sigma)`` where ``sigma < below``, ``high(x, sigma)`` elsewhere, image by image.

    Both networks take the same images (``in_channels``, ``multiple``) and a level per image
    (``conditioned``). ``meta`` is ``high``'s (its blind-level rule, its figures) with
    ``low_levels`` added: the partner's name and the threshold.
    """

    conditioned = True

    def __init__(self, low: nn.Module, high: nn.Module, below: float, low_name: str = "low"):
        super().__init__()
        for net in (low, high):
            if not getattr(net, "conditioned", False):
                raise ValueError("both networks must take a noise level (conditioned)")
        if low.in_channels != high.in_channels or low.multiple != high.multiple:
            raise ValueError(f"the networks differ: {low.in_channels} / {high.in_channels} channels, "
                             f"multiples {low.multiple} / {high.multiple}")
        self.low, self.high, self.below = low, high, float(below)
        self.in_channels, self.multiple = high.in_channels, high.multiple
        self.meta = {**(getattr(high, "meta", None) or {}), "low_levels": {"model": low_name, "below": self.below}}

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        check_input(self, x, sigma)  # one level per image (or one for all): no maps
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1).expand(x.shape[0])
        low = sigma < self.below  # [B]
        if bool(low.all()):
            return self.low(x, sigma)
        if not bool(low.any()):
            return self.high(x, sigma)
        out = torch.empty_like(x)
        out[low] = self.low(x[low], sigma[low])
        out[~low] = self.high(x[~low], sigma[~low])
        return out
