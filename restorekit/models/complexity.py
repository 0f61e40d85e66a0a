"""Multiply-adds per pixel and parameter counts, measured by running the model once."""

from __future__ import annotations

import torch
from torch import nn


def macs_per_pixel(model: nn.Module, channels: int | None = None, size: int = 64) -> float:
    """Multiply-adds of convolutions per input pixel (at ``size`` x ``size``, sigma 25/255)."""
    channels = channels or model.in_channels
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv2d):  # each output value: C_in/groups * kh * kw multiply-adds
            total += out[0].numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.ConvTranspose2d):  # each input value feeds C_out * kh * kw outputs
            total += inp[0][0].numel() * mod.out_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.inference_mode():
            x = torch.rand(1, channels, size, size)
            model(x, torch.full((1,), 25 / 255)) if getattr(model, "conditioned", False) else model(x)
    finally:
        for h in handles:
            h.remove()
    return total / (size * size)


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
