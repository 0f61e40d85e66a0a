"""Adapt a model to another channel count (gray <-> colour) for fine-tuning.

Only the first and the last convolution depend on the channel count. Their weights are
mapped so that the adapted model behaves like the original on gray content:
gray -> colour splits each input filter over R, G, B (weights / 3) and copies each output
filter to the three channels; colour -> gray sums the input filters and averages the output
filters. Models that fold 2x2 pixels into channels (``model.unshuffle = 2``) keep that
interleaving: channel ``c * 4 + k`` is colour ``c``, sub-pixel ``k``, as ``pixel_unshuffle``
lays it out. Extra input channels after the image (a sigma map) are carried over unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from restorekit.models.registry import create_model


def _convs(model: nn.Module) -> tuple[str, str]:
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    return names[0], names[-1]


def adapt_channels(model: nn.Module, channels: int) -> nn.Module:
    """A copy of ``model`` taking ``channels`` (1 or 3) channels; ``model`` itself is unchanged."""
    if model.in_channels == channels:
        return model
    old_c = model.in_channels
    g = getattr(model, "unshuffle", 1) ** 2  # channels per colour after pixel_unshuffle
    new = create_model(model.arch, **{**model.arch_args, "channels": channels})
    first, last = _convs(model)
    src = model.state_dict()
    dst = new.state_dict()
    with torch.no_grad():
        for key, value in dst.items():
            if key.startswith(first + "."):
                if key.endswith("weight"):  # [O, old_c*g + extra, kh, kw]
                    image, extra = src[key][:, : old_c * g], src[key][:, old_c * g :]
                    image = image.reshape(image.shape[0], old_c, g, *image.shape[2:])
                    mapped = image.sum(1, keepdim=True) if channels == 1 else image.expand(-1, 3, -1, -1, -1) / 3
                    value.copy_(torch.cat([mapped.flatten(1, 2), extra], dim=1))
                else:
                    value.copy_(src[key])
            elif key.startswith(last + "."):  # weight [old_c*g, I, kh, kw] or bias [old_c*g]
                out = src[key].reshape(old_c, g, *src[key].shape[1:])
                mapped = out.mean(0, keepdim=True) if channels == 1 else out.expand(3, *out.shape[1:])
                value.copy_(mapped.flatten(0, 1))
            else:
                value.copy_(src[key])
    new.meta = dict(getattr(model, "meta", {}))
    return new.train(model.training)
