"""Every registered architecture: shapes, gradients, conditioning, clear input errors, the
registry's wiring, and DnCNN's paper layout."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

import restorekit.models
from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.models import create_model, list_architectures

ARCHS = list_architectures()
CONDITIONED = [a for a in ARCHS if create_model(a).conditioned]
MODELS_DIR = Path(restorekit.models.__file__).parent


def _padded(n: int, multiple: int) -> int:
    return math.ceil(n / multiple) * multiple


def _perturb(model: torch.nn.Module, seed: int = 0) -> None:
    """Randomise every parameter: zero-initialised layers would hide wiring bugs."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))


def _restorekit_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("restorekit"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("restorekit")}
    return names


def _registered_in(path: Path) -> list[str]:
    return [node.args[0].value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register_model"]


def test_the_registry_holds_every_architecture_file():
    # restorekit/models/__init__.py imports the architecture files; one it forgets registers nothing.
    files = {path.stem: _registered_in(path) for path in MODELS_DIR.glob("*.py") if _registered_in(path)}
    assert sorted(name for names in files.values() for name in names) == ARCHS
    # no cycle: an architecture imports only the registry and the layers; the registry no architecture
    for stem in files:
        assert _restorekit_imports(MODELS_DIR / f"{stem}.py") <= {"restorekit.models.registry",
                                                                 "restorekit.models.layers"}, stem
    assert not {f"restorekit.models.{stem}" for stem in files} & _restorekit_imports(MODELS_DIR / "registry.py")


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


@pytest.mark.parametrize("arch", CONDITIONED)
def test_conditioned_models_use_sigma_and_need_it(arch):
    model = create_model(arch, channels=1).eval()
    _perturb(model)
    m = model.multiple
    x = torch.rand(1, 1, 2 * m + (16 if m < 8 else 0), 2 * m + (16 if m < 8 else 0),
                   generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        low, high = model(x, torch.tensor([5 / 255])), model(x, torch.tensor([50 / 255]))
    assert not torch.allclose(low, high), "the sigma map does not reach the output"
    with pytest.raises(RestorekitError, match=f"^{arch} is noise-conditioned and needs sigma"):
        model(x)


@pytest.mark.parametrize("arch", CONDITIONED)
def test_one_sigma_broadcasts_over_the_batch(arch):
    model = create_model(arch, channels=1).eval()
    _perturb(model)
    x = torch.rand(2, 1, 16, 24, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        ref = model(x, torch.tensor([0.1, 0.1]))
        for sigma in (0.1, torch.tensor(0.1), torch.tensor([0.1]), torch.full((2, 1, 1, 1), 0.1)):
            assert torch.equal(model(x, sigma), ref), sigma
    for bad in (torch.tensor([0.1, 0.2, 0.3]), torch.zeros(2, 2), torch.zeros(3, 1, 16, 24)):
        wrong = rf"^{arch}:? (takes sigma as one value or one per image \(\[2\]\)|a sigma map must be)"
        with pytest.raises(RestorekitError, match=wrong):
            model(x, bad)


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


def test_unet_takes_a_sigma_map():
    model = create_model("unet", channels=1, widths=[4, 8], blocks=1).eval()
    _perturb(model)
    x = torch.rand(2, 1, 6, 10, generator=torch.Generator().manual_seed(5))
    sigma = torch.tensor([0.1, 0.3])
    with torch.no_grad():
        assert torch.equal(model(x, sigma.reshape(2, 1, 1, 1).expand(2, 1, 6, 10)), model(x, sigma))
        varying = torch.linspace(0, 0.3, 60).reshape(1, 1, 6, 10).expand(2, 1, 6, 10)
        assert not torch.equal(model(x, varying), model(x, sigma))
    with pytest.raises(RestorekitError, match=r"sigma map must be \[2, 1, 6, 10\], got \[2, 1, 4, 10\]"):
        model(x, torch.zeros(2, 1, 4, 10))


def test_bad_constructor_arguments():
    with pytest.raises((ValueError, ModelLoadError), match="channels"):
        create_model("dncnn", channels=4)
    with pytest.raises(ModelLoadError, match="unknown architecture"):
        create_model("resnet")
    with pytest.raises(ModelLoadError, match="bad arguments"):
        create_model("unet", width=3)


def test_a_fastunet_given_a_bad_size_says_so_in_one_line():
    with pytest.raises(RestorekitError) as exc:
        create_model("fastunet", channels=1)(torch.rand(1, 1, 36, 30), torch.tensor([0.1]))
    assert str(exc.value) == "fastunet needs H and W to be multiples of 8, got 36x30; restorekit.denoise pads for you"


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_rejects_bad_inputs_clearly(arch):
    model = create_model(arch, channels=3)
    sigma = torch.tensor([0.1]) if model.conditioned else None
    m = model.multiple
    for bad in (torch.rand(1, 1, 2 * m, 2 * m), torch.rand(3, 2 * m, 2 * m)):  # gray; no batch axis
        with pytest.raises(RestorekitError, match=rf"^{arch} takes images as \[B, 3, H, W\], got \[") as exc:
            model(bad, sigma)
        assert "\n" not in str(exc.value)
    if m > 1:
        message = rf"^{arch} needs H and W to be multiples of {m}, got {2 * m + 1}x{m}; restorekit.denoise pads"
        with pytest.raises(RestorekitError, match=message):
            model(torch.rand(1, 3, 2 * m + 1, m), sigma)


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
