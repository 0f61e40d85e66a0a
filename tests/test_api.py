"""restorekit.denoise: dtypes, shapes, padding, sigma handling, blind mode and errors."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

import restorekit
from restorekit.infer import default_model, denoise
from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.io import from_float32
from restorekit.models import create_model, list_architectures
from restorekit.models.weights import save_weights


class Probe(nn.Module):
    """A stand-in network: records what it is given and returns ``gain * x``."""

    def __init__(self, channels=1, multiple=1, conditioned=False, gain=1.0):
        super().__init__()
        self.in_channels, self.multiple, self.conditioned, self.gain = channels, multiple, conditioned, gain
        self.weight = nn.Parameter(torch.zeros(1))
        self.calls = []

    def forward(self, x, sigma=None):
        self.calls.append((tuple(x.shape), None if sigma is None else sigma.tolist(), self.training))
        return x * self.gain


@pytest.mark.parametrize("arch", list_architectures())
def test_every_architecture_denoises_odd_sizes(arch, gray_image, color_image):
    for image in (gray_image, color_image):
        c = 1 if image.ndim == 2 else 3
        model = create_model(arch, channels=c)
        out = denoise(image, model, sigma=25 / 255)
        assert out.shape == image.shape and out.dtype == np.float32 and np.isfinite(out).all()


def test_padding_is_cropped_back_exactly(gray_image):
    probe = Probe(multiple=8)
    out = denoise(gray_image, probe)
    assert probe.calls[0][0] == (1, 1, 40, 32)
    assert np.array_equal(out, gray_image)


@pytest.mark.parametrize("dtype,peak", [(np.uint8, 255), (np.uint16, 65535)])
def test_integer_images_keep_their_dtype_and_are_clipped(dtype, peak):
    image = np.array([[0, peak // 3], [peak // 2, peak]], dtype=dtype)
    out = denoise(image, Probe(gain=1.5))
    assert out.dtype == dtype
    # the one rounding rule of the library (and the papers): uint(clip(x) * peak + 0.5)
    expected = from_float32((image / np.float32(peak)).astype(np.float32) * np.float32(1.5), dtype)
    assert np.array_equal(out, expected)
    assert np.array_equal(denoise(image, Probe()), image)  # identity round-trips exactly


def test_float_output_is_not_clipped():
    out = denoise(np.full((4, 5), 0.9, np.float32), Probe(gain=2.0))
    assert out.max() == pytest.approx(1.8)


def test_gray_with_channel_axis_and_colour(color_image):
    image = color_image[:, :, :1]
    assert denoise(image, Probe()).shape == image.shape
    assert denoise(color_image, Probe(channels=3)).shape == color_image.shape


def test_channel_mismatch_is_a_clear_error(gray_image, color_image):
    with pytest.raises(RestorekitError, match="expects gray images, got a colour image"):
        denoise(color_image, Probe(channels=1))
    with pytest.raises(RestorekitError, match="expects colour images"):
        denoise(gray_image, Probe(channels=3))


def test_sigma_reaches_conditioned_models_only(gray_image):
    probe = Probe(conditioned=True)
    denoise(gray_image, probe, sigma=25 / 255)
    assert probe.calls[-1][1] == [pytest.approx(25 / 255)]
    plain = Probe(conditioned=False)
    denoise(gray_image, plain, sigma=25 / 255)
    assert plain.calls[-1][1] is None


def test_blind_mode_estimates_sigma(gray_image, monkeypatch):
    fake = types.ModuleType("restorekit.estimate")
    fake.estimate_sigma = lambda image: 0.07 if image.dtype == np.float32 and image.max() <= 1 else -1
    monkeypatch.setitem(sys.modules, "restorekit.estimate", fake)
    probe = Probe(conditioned=True)
    denoise((gray_image * 255).astype(np.uint8), probe)
    assert probe.calls[-1][1] == [pytest.approx(0.07)]


@pytest.mark.parametrize("sigma,match", [(25, "0, 1] scale"), (-0.1, r"in \[0, 1\]"), ("x", "number"), (float("nan"), "number")])
def test_bad_sigma(gray_image, sigma, match):
    with pytest.raises(RestorekitError, match=match):
        denoise(gray_image, Probe(conditioned=True), sigma=sigma)


@pytest.mark.parametrize("image,match", [
    (np.zeros((4, 4, 4), np.float32), "HxW"),
    (np.zeros((4, 4), np.int32), "dtype"),
    (np.zeros((0, 4), np.float32), "too small"),
    ([[0.0]], "numpy"),
])
def test_bad_images(image, match):
    with pytest.raises(RestorekitError, match=match):
        denoise(image, Probe())


def test_runs_in_eval_mode_and_restores_the_mode(gray_image):
    model = create_model("dncnn", channels=1, depth=4, features=8)  # BN: train and eval differ
    model.train()
    out = denoise(gray_image, model)
    assert model.training
    assert np.array_equal(out, denoise(gray_image, model.eval()))


def test_tiled_denoise_matches_whole_image():
    model = create_model("dncnn", channels=1, depth=3, features=8)  # receptive radius 3
    image = np.random.default_rng(0).random((100, 77), dtype=np.float32)
    whole, tiled = denoise(image, model), denoise(image, model, tile=48)  # overlap 12, margin 3
    assert np.abs(whole - tiled).max() < 1e-5


def test_model_by_path(tmp_path, gray_image):
    model = create_model("dncnn", channels=1, depth=4, features=8)
    path = save_weights(tmp_path / "m.safetensors", model, {})
    assert np.array_equal(denoise(gray_image, str(path)), denoise(gray_image, model.eval()))
    with pytest.raises(ModelLoadError, match="unknown model"):
        denoise(gray_image, str(tmp_path / "nothing.safetensors"))
    with pytest.raises(RestorekitError, match="name, a path or an nn.Module"):
        denoise(gray_image, 3)


def test_default_model_names():
    assert default_model(1) == "fastunet.gray" and default_model(3) == "fastunet.color"
    with pytest.raises(RestorekitError):
        default_model(2)
    assert restorekit.denoise is denoise and restorekit.default_model is default_model


def test_every_public_name_resolves_to_its_object_every_time():
    # A lazily exported function must not be shadowed by a submodule of the same name once
    # that submodule is imported (restorekit.deblur once was, after the first access).
    import importlib

    for name, module in restorekit._API.items():
        importlib.import_module(module)
        first, second = getattr(restorekit, name), getattr(restorekit, name)
        assert first is second and not isinstance(first, type(restorekit)), name
    assert callable(restorekit.deblur)


class Ramp(nn.Module):
    """Not equivariant: adds a ramp rising from 0 to 1 along the width of what it is given."""

    in_channels, multiple, conditioned = 1, 1, False

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x + torch.linspace(0, 1, x.shape[-1])


def test_self_ensemble_turns_each_output_back_before_the_mean():
    image = np.random.default_rng(0).random((5, 7), dtype=np.float32)
    ramp = np.linspace(0, 1, 7, dtype=np.float32)
    np.testing.assert_allclose(denoise(image, Ramp()), image + ramp, atol=1e-6)
    # Identity and transpose: half the ramp along the width, half along the height.
    both = image + (ramp[None, :] + np.linspace(0, 1, 5, dtype=np.float32)[:, None]) / 2
    np.testing.assert_allclose(denoise(image, Ramp(), ensemble=2), both, atol=1e-6)
    # All eight: each direction and its reverse, so every pixel gets 0.5.
    np.testing.assert_allclose(denoise(image, Ramp(), ensemble=8), image + 0.5, atol=1e-6)
    calls = []
    tiled = denoise(np.tile(image, (4, 4)), Ramp(), ensemble=8, tile=16, overlap=4, progress=lambda *c: calls.append(c))
    np.testing.assert_allclose(tiled, np.tile(image, (4, 4)) + 0.5, atol=1e-6)
    assert calls[-1] == (8 * 4, 8 * 4) and len(calls) == 8 * 4  # 2x2 tiles, eight times


def test_self_ensemble_is_better_with_the_shipped_model():
    from skimage import data

    clean = data.camera()[100:228, 150:278].astype(np.float32) / 255
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape).astype(np.float32)
    error = [np.mean((denoise(noisy, "fastunet.gray", 25 / 255, ensemble=n) - clean) ** 2) for n in (1, 2, 8)]
    assert error[0] > error[1] > error[2]


@pytest.mark.parametrize("value", [0, 3, 16, True, 2.0])
def test_bad_ensemble_is_one_clear_error(gray_image, value):
    with pytest.raises(RestorekitError, match="ensemble must be 1, 2, 4 or 8"):
        denoise(gray_image, Probe(), ensemble=value)
