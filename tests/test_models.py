"""Every registered architecture: shapes, gradients, conditioning, and DnCNN's paper layout."""

from __future__ import annotations

import math

import pytest
import torch

from restorekit.errors import ModelLoadError
from restorekit.models import create_model, list_architectures

ARCHS = list_architectures()


def _padded(n: int, multiple: int) -> int:
    return math.ceil(n / multiple) * multiple


def _perturb(model: torch.nn.Module, seed: int = 0) -> None:
    """Randomise every parameter: zero-initialised layers would hide wiring bugs."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))


def test_registry_lists_the_four_families():
    assert {"dncnn", "dae", "unet", "fastunet"} <= set(ARCHS)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("arch", ARCHS)
def test_forward_backward(arch, channels):
    model = create_model(arch, channels=channels)
    assert model.in_channels == channels and model.arch == arch
    assert isinstance(model.conditioned, bool) and model.multiple >= 1
    h, w = _padded(37, model.multiple), _padded(31, model.multiple)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, channels, h, w, generator=gen)
    sigma = torch.tensor([10 / 255, 40 / 255]) if model.conditioned else None
    y = model(x, sigma)
    assert y.shape == x.shape
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize("arch", [a for a in ARCHS if create_model(a).conditioned])
def test_conditioned_models_use_sigma_and_need_it(arch):
    model = create_model(arch, channels=1).eval()
    _perturb(model)
    m = model.multiple
    x = torch.rand(1, 1, 2 * m + (16 if m < 8 else 0), 2 * m + (16 if m < 8 else 0),
                   generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        low, high = model(x, torch.tensor([5 / 255])), model(x, torch.tensor([50 / 255]))
    assert not torch.allclose(low, high), "the sigma map does not reach the output"
    with pytest.raises(ValueError, match="sigma"):
        model(x)


@pytest.mark.parametrize("arch", [a for a in ARCHS if not create_model(a).conditioned])
def test_unconditioned_models_ignore_sigma(arch):
    model = create_model(arch, channels=1).eval()
    x = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(model(x), model(x, torch.tensor([0.3])))


def test_dncnn_matches_the_paper():
    # DnCNN-S: 17 convs, 15 BNs, ~0.556M parameters (gray); conv biases only without BN.
    model = create_model("dncnn", channels=1)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == 17 and len(bns) == 15
    assert all(c.bias is None for c in convs)
    assert sum(p.numel() for p in model.parameters()) == 556_032
    blind = create_model("dncnn", channels=3, depth=20, batchnorm=False)
    convs = [m for m in blind.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 20 and all(c.bias is not None for c in convs)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in blind.modules())


def test_dncnn_is_residual():
    # With the last conv zeroed the network predicts no noise: output == input.
    model = create_model("dncnn", channels=1, depth=5, features=8).eval()
    with torch.no_grad():
        model.body[-1].weight.zero_()
    x = torch.rand(1, 1, 9, 7)
    assert torch.equal(model(x), x)


@pytest.mark.parametrize("levels,up", [(2, "transpose"), (3, "shuffle")])
def test_dae_levels_and_upsampling(levels, up):
    model = create_model("dae", channels=1, features=8, levels=levels, up=up)
    assert model.multiple == 2**levels
    x = torch.rand(1, 1, 3 * model.multiple, 5 * model.multiple)
    assert model(x).shape == x.shape


def test_unet_depth_follows_widths():
    model = create_model("unet", channels=3, widths=[8, 16, 32], blocks=1)
    assert model.multiple == 4
    x = torch.rand(1, 3, 12, 20)
    assert model(x, torch.tensor([0.1])).shape == x.shape


def test_bad_constructor_arguments():
    with pytest.raises((ValueError, ModelLoadError), match="channels"):
        create_model("dncnn", channels=4)
    with pytest.raises(ModelLoadError, match="unknown architecture"):
        create_model("resnet")
    with pytest.raises(ModelLoadError, match="bad arguments"):
        create_model("unet", width=3)


@pytest.mark.parametrize("arch", ["dae", "unet"])
def test_sizes_that_are_not_multiples_fail_clearly(arch):
    model = create_model(arch, channels=1)
    with pytest.raises(ValueError, match="multiples of"):
        model(torch.rand(1, 1, 37, 31), torch.tensor([0.1]))


@pytest.mark.parametrize("arch", ["dncnn", "fastunet"])
def test_untrained_residual_models_start_as_the_identity(arch):
    # Zero-initialised noise estimators: training starts from "output = input", not from
    # input minus a large random residual (see DnCNN._init_weights).
    model = create_model(arch, channels=1).eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        out = model(x, torch.tensor([0.1])) if model.conditioned else model(x)
    torch.testing.assert_close(out, x)


def test_dncnn_he_init_is_available_and_bad_init_is_rejected():
    from restorekit.errors import ModelLoadError

    model = create_model("dncnn", channels=1, depth=5, init="he")
    assert model.body[-1].weight.abs().sum() > 0
    with pytest.raises(ModelLoadError):
        create_model("dncnn", channels=1, init="xavier")
