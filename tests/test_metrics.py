"""Metrics equal scikit-image's on the same arrays; crop, identical images and errors behave."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from restorekit.errors import RestorekitError
from restorekit.metrics import batch_psnr, psnr, quantize8, ssim


@pytest.fixture
def pair8(gray_image, color_image):
    rng = np.random.default_rng(0)

    def make(image):
        clean = quantize8(image)
        noisy = quantize8(image + rng.normal(0, 0.1, image.shape))
        return clean, noisy

    return {"gray": make(gray_image), "colour": make(color_image)}


@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_psnr_equals_skimage(pair8, kind):
    clean, noisy = pair8[kind]
    assert psnr(clean, noisy) == pytest.approx(peak_signal_noise_ratio(clean, noisy, data_range=255), abs=1e-10)
    # float images default to a data range of 1
    a, b = clean / 255.0, noisy / 255.0
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), abs=1e-10)
    assert psnr(a, b) == pytest.approx(psnr(clean, noisy), abs=1e-9)


@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_ssim_equals_skimage(pair8, kind):
    clean, noisy = pair8[kind]
    axis = -1 if kind == "colour" else None
    expected = structural_similarity(clean, noisy, data_range=255, channel_axis=axis)
    assert ssim(clean, noisy) == pytest.approx(expected, abs=1e-12)
    if kind == "colour":  # colour SSIM is the mean of the channels' SSIMs
        per_channel = [structural_similarity(clean[..., c], noisy[..., c], data_range=255) for c in range(3)]
        assert ssim(clean, noisy) == pytest.approx(np.mean(per_channel), abs=1e-12)


def test_uint16_range():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 65536, (20, 24), dtype=np.uint16)
    b = np.clip(a.astype(np.int64) + rng.integers(-500, 500, a.shape), 0, 65535).astype(np.uint16)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=65535), abs=1e-10)


def test_crop_removes_the_border(pair8):
    clean, noisy = pair8["colour"]
    spoiled = noisy.copy()
    spoiled[:3], spoiled[-3:], spoiled[:, :3], spoiled[:, -3:] = 0, 255, 0, 255  # damage only the border
    assert psnr(clean, spoiled, crop=3) == pytest.approx(psnr(clean[3:-3, 3:-3], noisy[3:-3, 3:-3]))
    assert psnr(clean, spoiled) < psnr(clean, spoiled, crop=3) - 1
    assert ssim(clean, spoiled, crop=3) == pytest.approx(ssim(clean[3:-3, 3:-3], noisy[3:-3, 3:-3]))


def test_identical_images():
    a = quantize8(np.linspace(0, 1, 100).reshape(10, 10))
    with np.errstate(all="raise"):  # no divide-by-zero warning either
        assert psnr(a, a) == float("inf")
    assert ssim(a, a) == pytest.approx(1.0)


def test_quantize8_rounds_like_the_papers():
    x = np.array([-0.2, 0.0, 0.5 / 255, 0.49 / 255, 127.5 / 255, 1.0, 1.3])
    assert quantize8(x).tolist() == [0, 0, 1, 0, 128, 255, 255]
    assert quantize8(x).dtype == np.uint8


@pytest.mark.parametrize("bad", [dict(crop=-1), dict(crop=20)])
def test_bad_crop(bad):
    a = np.zeros((30, 30), np.uint8)
    with pytest.raises(RestorekitError, match="crop"):
        psnr(a, a, **bad)


def test_shape_mismatch():
    with pytest.raises(RestorekitError, match="shape"):
        psnr(np.zeros((8, 8)), np.zeros((8, 9)))
    with pytest.raises(RestorekitError, match="shape"):
        ssim(np.zeros((8, 8, 3)), np.zeros((8, 8)))


def test_batch_psnr_matches_per_image():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 2, 17, 13, generator=g)
    y = (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    y[2] = x[2]  # one identical pair
    out = batch_psnr(x, y)
    assert out.shape == (3,)
    for i in range(2):
        ref = psnr(x[i].permute(1, 2, 0).numpy().astype(np.float64), y[i].permute(1, 2, 0).numpy().astype(np.float64))
        assert out[i].item() == pytest.approx(ref, abs=1e-4)
    assert out[2].item() == float("inf")
