"""Classical methods: each one denoises, keeps shape and dtype, works blind; the registry; BM3D's figure."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from conftest import shared_data
from restorekit.classical import ClassicalMethod, Restorer, get_method, list_methods, register_method
from restorekit.errors import RestorekitError
from restorekit.metrics import psnr

METHODS = list_methods()
# BM3D spends about 1.5 s a call whatever the image size; the checks of the shared base-class
# paths (blind sigma, dtype, HxWx1) leave it out to keep this file fast.
FAST_METHODS = [m for m in METHODS if m != "bm3d"]
SIGMA = 25 / 255


def _crop(kind: str) -> np.ndarray:
    """An odd-sized 61x67 float32 crop with edges and flat parts: camera (gray) or astronaut (colour)."""
    if kind == "gray":
        return (data.camera()[60:121, 200:267] / 255.0).astype(np.float32)
    return (data.astronaut()[40:101, 180:247] / 255.0).astype(np.float32)


def _noisy(clean: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    return (clean + np.random.RandomState(0).normal(0, sigma, clean.shape)).astype(np.float32)


def test_the_registry_lists_every_method():
    assert METHODS == ["bilateral", "bm3d", "gaussian", "median", "nlm", "tv", "wavelet"]
    for name in METHODS:
        method = get_method(name)
        assert isinstance(method, Restorer) and method.name == name


@pytest.mark.parametrize("kind", ["gray", "colour"])
@pytest.mark.parametrize("name", METHODS)
def test_each_method_improves_psnr(name, kind):
    clean = _crop(kind)
    noisy = _noisy(clean)
    out = get_method(name)(noisy, SIGMA)
    assert out.shape == clean.shape and out.dtype == np.float32
    gain = psnr(clean, np.clip(out, 0, 1)) - psnr(clean, np.clip(noisy, 0, 1))
    assert gain > 2.0, f"{name} on {kind}: only {gain:.2f} dB better than the noisy input"


@pytest.mark.parametrize("name", FAST_METHODS)
def test_blind_is_close_to_known_sigma(name):
    clean = _crop("gray")
    noisy = _noisy(clean)
    known = psnr(clean, np.clip(get_method(name)(noisy, SIGMA), 0, 1))
    blind = psnr(clean, np.clip(get_method(name)(noisy, None), 0, 1))
    assert blind == pytest.approx(known, abs=0.5)


@pytest.mark.parametrize("name", FAST_METHODS)
def test_small_image_float64_and_single_channel(name, gray_image):
    method = get_method(name)
    noisy = _noisy(gray_image).astype(np.float64)  # 37x31
    out64 = method(noisy, SIGMA)
    assert out64.dtype == np.float64
    out1 = method(noisy[..., None], SIGMA)
    assert out1.shape == (37, 31, 1)
    np.testing.assert_allclose(out1[..., 0], out64, atol=1e-6)


def test_stronger_noise_means_stronger_smoothing():
    # Parameters grow with sigma: the same image filtered for sigma 50 is smoother than for 15.
    noisy = _noisy(_crop("gray"))
    for name in ("median", "gaussian", "bilateral", "tv", "nlm"):
        weak, strong = get_method(name)(noisy, 15 / 255), get_method(name)(noisy, 50 / 255)
        assert np.abs(np.diff(strong, axis=1)).mean() < np.abs(np.diff(weak, axis=1)).mean(), name


def test_zero_sigma_returns_the_input():
    image = _noisy(_crop("gray"))
    out = get_method("nlm")(image, 0.0)
    np.testing.assert_array_equal(out, image)
    assert out is not image


def test_unknown_method():
    with pytest.raises(RestorekitError, match=r"unknown method 'bm4d'.*bm3d.*wavelet"):
        get_method("bm4d")


@pytest.mark.parametrize(
    ("image", "sigma", "message"),
    [
        (np.zeros((16, 16), np.uint8), 0.1, "unsupported dtype uint8"),
        (np.zeros((16, 16, 4), np.float32), 0.1, "HxW or HxWx1/HxWx3"),
        (np.zeros((16,), np.float32), 0.1, "HxW or HxWx1/HxWx3"),
        (np.zeros((16, 16), np.float32), 25, "0, 1] scale"),
        (np.zeros((16, 16), np.float32), -0.1, r"in \[0, 1\]"),
        (np.zeros((16, 16), np.float32), "high", "number"),
    ],
)
def test_bad_input_gives_one_clear_error(image, sigma, message):
    with pytest.raises(RestorekitError, match=message):
        get_method("gaussian")(image, sigma)


def test_register_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):

        @register_method("median")
        class Another(ClassicalMethod):
            name = "median"


def test_registry_holds_every_method_module():
    # A method file that restorekit/classical/__init__.py forgets to import registers nothing.
    import ast
    from pathlib import Path

    import restorekit.classical as classical

    names = set()
    for path in Path(classical.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register_method":
                names.add(node.args[0].value)
    assert names == set(METHODS)


def test_bm3d_patches_numpy_only_during_its_call(monkeypatch):
    # bm3d needs np.trapz, which NumPy 2.4 removed: it exists while bm3d runs, then NumPy is
    # as it was (here: with or without trapz, whichever this NumPy has).
    import bm3d

    before = hasattr(np, "trapz")
    seen = []
    real = bm3d.bm3d

    def spy(*args, **kwargs):
        seen.append(np.trapz(np.array([0.0, 1.0, 2.0])))
        return real(*args, **kwargs)

    monkeypatch.setattr(bm3d, "bm3d", spy)
    out = get_method("bm3d")(_noisy(_crop("gray"))[:32, :32], SIGMA)
    assert out.shape == (32, 32) and seen == [pytest.approx(2.0)]
    assert hasattr(np, "trapz") == before


def test_bm3d_numpy_patch_nests_and_restores():
    from restorekit.classical.block_matching import _numpy_trapz

    before = hasattr(np, "trapz")
    with _numpy_trapz():
        with _numpy_trapz():  # two overlapping calls (threads): the inner exit keeps it
            pass
        assert hasattr(np, "trapz")
    assert hasattr(np, "trapz") == before
    with pytest.raises(KeyError), _numpy_trapz():
        raise KeyError("a failing call restores too")
    assert hasattr(np, "trapz") == before


@pytest.mark.slow
def test_bm3d_reproduces_the_published_set12_figure():
    """Paper protocol on Set12, sigma 25: the BM3D paper's figure is 29.97 dB (we get 29.985)."""
    from PIL import Image

    from restorekit.metrics import quantize8

    bm3d = get_method("bm3d")
    scores = []
    for path in sorted(shared_data("test", "Set12").glob("*.png")):
        clean8 = np.asarray(Image.open(path))
        noisy = clean8.astype(np.float32) / 255 + np.random.RandomState(0).normal(0, 25 / 255, clean8.shape)
        scores.append(psnr(clean8, quantize8(bm3d(noisy, 25 / 255))))
    assert len(scores) == 12
    assert np.mean(scores) == pytest.approx(29.97, abs=0.02)
