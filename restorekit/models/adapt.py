"""Adapt a model for fine-tuning: to another channel count (gray <-> colour), grown, or branched.

Only the first and the last convolution depend on the channel count. Their weights are
mapped so that the adapted model behaves like the original on gray content:
gray -> colour splits each input filter over R, G, B (weights / 3) and copies each output
filter to the three channels; colour -> gray sums the input filters and averages the output
filters. Models that fold 2x2 pixels into channels (``model.unshuffle = 2``) keep that
interleaving: channel ``c * 4 + k`` is colour ``c``, sub-pixel ``k``, as ``pixel_unshuffle``
lays it out. Extra input channels after the image (a sigma map) are carried over unchanged.
"""

from __future__ import annotations

import copy

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


def grow(model: nn.Module, arch_args: dict) -> nn.Module:
    """A copy of ``model`` built with ``arch_args`` (more blocks, wider levels) that computes the same.

    Deeper (Net2DeeperNet, Chen et al. 2016): every tensor of ``model`` is copied into the
    tensor of the same name; the new layers keep their initialisation, and residual blocks
    whose last convolution starts at zero (:class:`~restorekit.models.layers.ResBlock`) are
    the identity. Wider: a layer with more channels gets the old weights in its leading
    slice; its new output channels keep their random initialisation, and every weight that
    *reads* a new channel starts at zero, so the old channels compute what they did while the
    new ones carry features nothing uses yet; training then turns them on (a symmetry-free
    Net2WiderNet). Either way the grown network starts exactly where ``model`` ended, with the
    capacity of the larger one but without its training from scratch. Any growth that would
    change the outputs (a layer renamed, narrowed or renumbered, a new layer that is not the
    identity) is an error, checked on a random image.
    """
    from restorekit.errors import ModelLoadError

    new = create_model(model.arch, **{**model.arch_args, **arch_args})
    if new.arch_args == model.arch_args:
        return model
    src, dst = model.state_dict(), new.state_dict()
    what = f"{model.arch} {_differs(model.arch_args, new.arch_args)}"
    inputs = _input_dims(new)
    with torch.no_grad():
        for key, value in src.items():
            target = dst.get(key)
            if target is None or target.dim() != value.dim() or any(
                    n < o for n, o in zip(target.shape, value.shape)):
                raise ModelLoadError(f"cannot grow {what}: its {key} has no place in the new network")
            dim = inputs.get(key)
            if dim is not None and target.shape[dim] > value.shape[dim]:  # weights reading new channels
                target.narrow(dim, value.shape[dim], target.shape[dim] - value.shape[dim]).zero_()
            target[tuple(slice(0, n) for n in value.shape)] = value
    if not _same_outputs(model, new):
        raise ModelLoadError(f"cannot grow {what}: the new layers change its outputs")
    new.meta = dict(getattr(model, "meta", {}))
    return new.train(model.training)


def shrink(model: nn.Module, arch_args: dict) -> nn.Module:
    """A copy of ``model`` built with ``arch_args`` that leaves layers out (fewer blocks at a level).

    Every tensor of the smaller network is copied from ``model``'s tensor of the same name
    and shape; the layers it has no place for (the last residual blocks of a level, where
    ``blocks`` went down) are dropped. Unlike :func:`grow` the outputs change, by what the
    dropped blocks added, so training must follow: what is kept is everything the other
    layers learned. A tensor of the new network that ``model`` lacks, or holds in another
    shape (a level narrowed), is an error.
    """
    from restorekit.errors import ModelLoadError

    new = create_model(model.arch, **{**model.arch_args, **arch_args})
    src, dst = model.state_dict(), new.state_dict()
    what = f"{model.arch} {_differs(model.arch_args, new.arch_args)}"
    for key, target in dst.items():
        if key not in src or src[key].shape != target.shape:
            raise ModelLoadError(f"cannot shrink {what}: its {key} is not in the old network in that shape")
    new.load_state_dict({key: src[key] for key in dst})
    new.meta = dict(getattr(model, "meta", {}))
    return new.train(model.training)


def reparameterise(model: nn.Module, rep: bool) -> nn.Module:
    """A copy of ``model`` with its blocks' convolutions branched (``rep=True``, to train on
    re-parameterisably) or folded into plain ones (``rep=False``); the outputs stay the same.

    Branching a trained plain model is :meth:`~restorekit.models.layers.RepConv3x3.unfold`
    for each of its re-parameterisable convolutions; every other tensor is copied.
    """
    from restorekit.errors import ModelLoadError
    from restorekit.models.layers import RepConv3x3, fold_reparam

    if bool(model.arch_args.get("rep", False)) == rep:
        return model
    if not rep:
        new = fold_reparam(copy.deepcopy(model))
        new.arch_args = {**model.arch_args, "rep": False}
        return new
    new = create_model(model.arch, **{**model.arch_args, "rep": True})
    branched = {name for name, m in new.named_modules() if isinstance(m, RepConv3x3)}
    src = model.state_dict()
    with torch.no_grad():
        for key, value in new.state_dict().items():
            if key.rsplit(".", 2)[0] not in branched:
                value.copy_(src[key])
        for name in branched:
            new.get_submodule(name).unfold(model.get_submodule(name))
    if not _same_outputs(model, new):
        raise ModelLoadError(f"cannot reparameterise {model.arch}: the branched network computes otherwise")
    new.meta = dict(getattr(model, "meta", {}))
    return new.train(model.training)


def resize(model: nn.Module, arch_args: dict) -> nn.Module:
    """:func:`shrink` where ``arch_args`` asks for fewer blocks at some level, else :func:`grow`;
    then :func:`reparameterise` where ``arch_args`` asks for another ``rep``."""
    if "rep" in arch_args:
        rest = {key: value for key, value in arch_args.items() if key != "rep"}
        return reparameterise(resize(model, rest), bool(arch_args["rep"]))
    old, new = model.arch_args.get("blocks"), arch_args.get("blocks")
    if old is not None and new is not None:
        levels = max(len(b) if isinstance(b, list | tuple) else 1 for b in (old, new))
        if any(n < o for n, o in zip(_per_level(new, levels), _per_level(old, levels))):
            return shrink(model, arch_args)
    return grow(model, arch_args)


def _per_level(blocks: int | list | tuple, levels: int) -> list[int]:
    """Block counts as one per level: ``4`` -> ``[4, 4, 4]`` for three levels."""
    return list(blocks) if isinstance(blocks, list | tuple) else [blocks] * levels


def _input_dims(model: nn.Module) -> dict[str, int]:
    """``{state key: dimension indexing input channels}`` for the weights of convolutions and linears."""
    dims = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            dims[f"{name}.weight"] = 0  # [in, out / groups, *kernel]
        elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            dims[f"{name}.weight"] = 1  # [out, in / groups, *kernel]
    return dims


def _differs(old: dict, new: dict) -> str:
    return ", ".join(f"{k} {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v)


def _same_outputs(a: nn.Module, b: nn.Module) -> bool:
    size = max(32, 2 * a.multiple)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, a.in_channels, size, size, generator=gen)
    args = (x, torch.full((1,), 25 / 255)) if getattr(a, "conditioned", False) else (x,)
    was = a.training, b.training
    a.eval(), b.eval()
    try:
        with torch.no_grad():
            return torch.allclose(a(*args), b(*args), atol=1e-5)
    finally:
        a.train(was[0]), b.train(was[1])
