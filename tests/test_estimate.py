"""Blind noise-level estimation: accurate on real images, gray and colour, robust at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from conftest import shared_data
from restorekit import estimate
from restorekit.errors import RestorekitError
from restorekit.estimate import estimate_sigma


def _noisy(clean: np.ndarray, sigma255: float) -> np.ndarray:
    """Paper-protocol noise: RandomState(0), additive, not clipped."""
    return clean + np.random.RandomState(0).normal(0, sigma255 / 255, clean.shape)


@pytest.mark.parametrize("name", ["camera", "coins", "astronaut", "coffee"])
@pytest.mark.parametrize("sigma", [5, 25, 50])
def test_accurate_on_real_images(name, sigma):
    clean = getattr(data, name)() / 255.0
    estimate = estimate_sigma(_noisy(clean, sigma).astype(np.float32)) * 255
    # The wavelet-MAD estimator errs by 0.6-2.7 on these; a broken selection by several units.
    assert estimate == pytest.approx(sigma, abs=0.75)


def test_noise_free_and_constant_images():
    assert estimate_sigma(np.full((40, 50), 0.3)) == 0.0
    assert estimate_sigma(np.full((40, 50, 3), 0.3)) < 1e-12  # rounding in the colour transform
    # A smooth ramp has no noise either.
    ramp = np.add.outer(np.linspace(0, 0.5, 64), np.linspace(0, 0.4, 64))
    assert estimate_sigma(ramp) * 255 < 0.05


def test_texture_is_not_taken_for_noise():
    clean = data.camera() / 255.0
    assert estimate_sigma(clean) * 255 < 1.5  # the skimage wavelet estimator says about 2.3


def test_colour_uses_all_channels_alike():
    clean = data.astronaut() / 255.0
    noisy = _noisy(clean, 25)
    colour = estimate_sigma(noisy) * 255
    assert colour == pytest.approx(25, abs=0.3)
    # A gray image stored as RGB with independent noise per channel is still right.
    gray_rgb = np.repeat((data.camera() / 255.0)[..., None], 3, axis=2)
    assert estimate_sigma(_noisy(gray_rgb, 25)) * 255 == pytest.approx(25, abs=0.3)
    # HxWx1 is gray.
    g = _noisy(data.camera() / 255.0, 15)
    assert estimate_sigma(g[..., None]) == estimate_sigma(g)


def test_clipped_highlights_do_not_pull_the_estimate_down(monkeypatch):
    clean = data.camera() / 255.0
    clean[:, :256] = 1.0  # half the picture blown out
    noisy = np.clip(_noisy(clean, 25), 0, 1)  # about a quarter of all pixels sit at exactly 1
    # Only the right half can tell the noise; with the blown-out patches kept, this gives 14.3.
    assert estimate_sigma(noisy) * 255 == pytest.approx(25, abs=1.5)
    # Every patch position (no subsampling, which picks different positions in the two
    # images): the whole image must then give what its unclipped half gives.
    monkeypatch.setattr(estimate, "MAX_PATCHES", 10**9)
    assert estimate_sigma(noisy) * 255 == pytest.approx(estimate_sigma(noisy[:, 256:]) * 255, abs=0.01)


def test_scale_and_shift_invariance():
    noisy = _noisy(data.moon() / 255.0, 25)
    base = estimate_sigma(noisy)
    assert estimate_sigma(noisy + 0.1) == pytest.approx(base, rel=1e-9)
    assert estimate_sigma(noisy * 2) == pytest.approx(2 * base, rel=1e-9)


def test_small_odd_sized_image(gray_image):
    noisy = _noisy(gray_image.astype(np.float64), 25)  # 37x31
    assert 15 < estimate_sigma(noisy) * 255 < 35


def test_bad_input():
    with pytest.raises(RestorekitError, match="too small"):
        estimate_sigma(np.zeros((5, 40)))
    with pytest.raises(RestorekitError, match="shape"):
        estimate_sigma(np.zeros((4, 4, 4, 4)))
    bad = np.zeros((32, 32))
    bad[3, 3] = np.nan
    with pytest.raises(RestorekitError, match="NaN"):
        estimate_sigma(bad)


def test_bsd68_mean_absolute_error():
    from PIL import Image

    files = sorted(shared_data("test", "BSD68").glob("*.png"))[:10]
    for sigma in (15, 50):
        errors = [
            estimate_sigma(_noisy(np.asarray(Image.open(f)) / 255.0, sigma)) * 255 - sigma for f in files
        ]
        assert np.mean(np.abs(errors)) < 0.5, (sigma, errors)


def test_clipped_colour():
    clean = data.astronaut() / 255.0
    clean[:, :256] = 1.0
    noisy = np.clip(_noisy(clean, 25), 0, 1)
    assert estimate_sigma(noisy) * 255 == pytest.approx(estimate_sigma(noisy[:, 256:]) * 255, abs=0.5)


def test_large_images_are_estimated_on_separate_crops(monkeypatch):
    from restorekit import estimate

    rng = np.random.default_rng(0)
    image = np.clip(0.5 + rng.normal(0, 20 / 255, (300, 400)), 0, 1).astype(np.float32)
    monkeypatch.setattr(estimate, "CROPS_ABOVE", 100 * 100)
    monkeypatch.setattr(estimate, "CROP", 64)
    crops = estimate._crops(image, 64, 4)
    assert len(crops) == 16 and all(c.shape == (64, 64) for c in crops)
    assert crops[0][0, 0] == image[0, 0] and crops[-1][-1, -1] == image[-1, -1]
    assert abs(estimate.estimate_sigma(image) * 255 - 20) < 1.0


def test_moments_with_patches_taken_out_equal_those_of_the_rest():
    # the estimator's rounds take dropped patches out of running sums instead of summing the
    # kept ones again; a wrong sign or shift there moves every blind estimate
    from restorekit.estimate import _Moments, noise_variance

    rng = np.random.default_rng(3)
    patches = 0.5 + rng.normal(0, 0.1, (49, 3000)) + rng.normal(0, 0.2, (1, 3000))  # bright, correlated
    drop = rng.random(3000) < 0.3
    moments = _Moments(patches)
    moments.remove(patches[:, drop])
    assert moments.n == (~drop).sum()
    assert moments.noise_variance() == pytest.approx(noise_variance(patches[:, ~drop]), rel=1e-9)
