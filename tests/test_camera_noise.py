"""Realistic noise: camera noise by unprocessing, JPEG, their compositions and realmix."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

import restorekit as rk
from restorekit.degradations import camera as cam
from restorekit.degradations import degrade, jpeg_compress, parse_spec
from restorekit.errors import SpecError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def params(batch: int = 1, shot: float = 1e-3, colour: bool = True) -> cam.CameraParams:
    return cam.random_camera(batch, shot, shot, gen(7), colour=colour)


def pillow_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The reference: what a file written by Pillow at ``quality`` decodes to, in [0, 1]."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue()))).astype(np.float32) / 255


# --- the raw noise model ------------------------------------------------------------------


def test_raw_noise_variance_is_linear_in_signal_plus_read_floor():
    shot, read = 0.01, 2e-4
    levels = torch.tensor([0.0, 0.05, 0.2, 0.5, 0.8]).view(5, 1, 1, 1)
    raw = levels.expand(5, 1, 256, 256)
    var = (cam.raw_noise(raw, shot, read, gen()) - raw).var(dim=(1, 2, 3)).double()
    expected = shot * levels.flatten().double() + read
    np.testing.assert_allclose(var.numpy(), expected.numpy(), rtol=0.03)  # ~7 standard errors
    slope, intercept = np.polyfit(levels.flatten().numpy(), var.numpy(), 1)
    assert abs(slope / shot - 1) < 0.03 and abs(intercept / read - 1) < 0.1


def test_noise_levels_follow_the_published_log_linear_fit():
    shot, read = cam.noise_levels(20_000, *cam.SHOT_RANGE, gen())
    log_shot = torch.log(shot)
    assert shot.min() >= 1e-4 and shot.max() <= 1.2e-2
    # log-uniform: the mean of log shot is the middle of the log range, its std range / sqrt(12)
    lo, hi = np.log(cam.SHOT_RANGE)
    assert abs(log_shot.mean().item() - (lo + hi) / 2) < 0.03
    assert abs(log_shot.std().item() - (hi - lo) / np.sqrt(12)) < 0.03
    residual = torch.log(read) - (2.18 * log_shot + 1.20)
    assert abs(residual.mean().item()) < 0.01 and abs(residual.std().item() - 0.26) < 0.01
    fixed, _ = cam.noise_levels(4, 0.003, 0.003, gen())
    assert torch.equal(fixed, torch.full((4,), 0.003, dtype=torch.float64))


def test_random_camera_matches_the_published_ranges():
    p = cam.random_camera(500, 1e-3, 1e-3, gen())
    torch.testing.assert_close(p.rgb2cam.sum(-1), torch.ones(500, 3, dtype=torch.float64))  # white stays white
    assert 1.9 <= p.red_gain.min() and p.red_gain.max() <= 2.4
    assert 1.5 <= p.blue_gain.min() and p.blue_gain.max() <= 1.9
    assert abs((1 / p.rgb_gain).mean().item() - 0.8) < 0.02 and abs((1 / p.rgb_gain).std().item() - 0.1) < 0.02
    gray = cam.random_camera(3, 1e-3, 1e-3, gen(), colour=False)
    assert gray.rgb2cam is None and gray.red_gain is None


# --- mosaic, demosaic and the pipeline ------------------------------------------------------


def test_mosaic_is_rggb_and_demosaic_keeps_recorded_sites():
    rgb = torch.rand((1, 3, 5, 7), generator=gen())
    bayer = cam.mosaic(rgb)[0, 0]
    assert bayer[0, 0] == rgb[0, 0, 0, 0] and bayer[0, 1] == rgb[0, 1, 0, 1]
    assert bayer[1, 0] == rgb[0, 1, 1, 0] and bayer[1, 1] == rgb[0, 2, 1, 1]
    out = cam.demosaic(cam.mosaic(rgb))
    masks = cam.cfa_masks(5, 7).bool()
    for c in range(3):
        torch.testing.assert_close(out[0, c][masks[c]], rgb[0, c][masks[c]])


def test_bilinear_demosaic_is_exact_on_a_ramp():
    h, w = 37, 31
    ramp = (0.01 * torch.arange(h)[:, None] + 0.02 * torch.arange(w)[None, :]).float()
    rgb = torch.stack([ramp, ramp + 0.1, ramp + 0.2])[None]
    out = cam.demosaic(cam.mosaic(rgb))
    torch.testing.assert_close(out[..., 1:-1, 1:-1], rgb[..., 1:-1, 1:-1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("colour", [True, False])
def test_noise_free_pipeline_returns_a_flat_image(colour):
    p = params(2, colour=colour)
    value = torch.tensor([0.2, 0.5, 0.7] if colour else [0.4]).view(1, -1, 1, 1)
    x = value.expand(2, -1, 9, 8).clone()
    y = cam.process(cam.mosaic(cam.unprocess(x, p)), p) if colour else cam.process_gray(cam.unprocess_gray(x, p), p)
    torch.testing.assert_close(y, x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("level", [0.15, 0.5, 0.85])
def test_gray_output_variance_is_the_raw_variance_through_the_tone_curve(level):
    # Small noise: the output variance is (dP/dL)^2 (shot L + read) at the linear level L.
    p = params(1, shot=1e-5, colour=False)
    x = torch.full((1, 1, 256, 256), level, dtype=torch.float64)
    linear = cam.unprocess_gray(x, p)
    noisy = cam.raw_noise(linear, p.shot, p.read, gen())
    measured = (cam.process_gray(noisy, p) - cam.process_gray(linear, p)).var().item()
    at = linear[0, 0, 0, 0].clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(cam.process_gray(at.view(1, 1, 1, 1), p).sum(), at)
    expected = slope.item() ** 2 * (p.shot.item() * at.item() + p.read.item())
    assert abs(measured / expected - 1) < 0.03


def _neighbour_correlation(noise: torch.Tensor) -> float:
    a, b = noise[..., :, :-1].flatten(), noise[..., :, 1:].flatten()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


def test_colour_camera_noise_is_spatially_correlated_gray_is_white():
    # Demosaicking spreads each raw sample over its neighbours; the gray path has no mosaic.
    colour = torch.full((1, 3, 128, 128), 0.5)
    gray = torch.full((1, 1, 128, 128), 0.5)
    c = _neighbour_correlation(cam.camera_noise(colour, 3e-3, 3e-3, gen()) - colour)
    g = _neighbour_correlation(cam.camera_noise(gray, 3e-3, 3e-3, gen()) - gray)
    assert c > 0.3 and abs(g) < 0.02


def test_more_shot_noise_more_noise(color_image):
    x = torch.from_numpy(color_image).permute(2, 0, 1)[None]
    rms = [(cam.camera_noise(x, s, s, gen()) - x).pow(2).mean().sqrt().item() for s in (1e-4, 1e-3, 1e-2)]
    assert rms[0] < rms[1] < rms[2]


# --- JPEG ------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["gray_image", "color_image"])
@pytest.mark.parametrize("quality", [10, 30, 95])
def test_jpeg_is_exactly_pillow(fixture, quality, request):
    clean = request.getfixturevalue(fixture)
    noisy = clean + 0.05 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)  # outside [0, 1]
    out = degrade(noisy, f"jpeg:{quality}", seed=0)
    np.testing.assert_array_equal(out, pillow_round_trip(noisy, quality))


def test_jpeg_quality_is_drawn_per_image_from_the_generator():
    x = torch.rand((6, 3, 37, 31), generator=gen(1))
    out = parse_spec("jpeg:20-90")(x, gen(5)).image
    qualities = torch.randint(20, 91, (6,), generator=gen(5))  # the draw the spec makes
    assert len(set(qualities.tolist())) > 1
    for image, clean, q in zip(out, x, qualities.tolist()):
        expected = pillow_round_trip(clean.permute(1, 2, 0).numpy(), q)
        np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), expected)


def test_jpeg_compress_checks_its_quality():
    with pytest.raises(ValueError, match="1..100"):
        jpeg_compress(torch.zeros(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="one per image"):
        jpeg_compress(torch.zeros(2, 1, 8, 8), torch.tensor([50, 60, 70]))


# --- specs, seeds, sigma ----------------------------------------------------------------

SPECS = ["camera", "camera:0.001", "camera:0.0005-0.005", "jpeg:30", "jpeg:60-95", "camera+jpeg:60-95",
         "gaussian:5+jpeg:80", "realmix", "blur:gaussian-1.6+camera", "poisson:30+jpeg:50"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("channels", [1, 3])
def test_seeded_shapes_and_sigma(spec, channels):
    x = torch.rand((3, channels, 37, 31), generator=gen(123)) * 0.8 + 0.1
    deg = parse_spec(spec)
    a, b, c = deg(x, gen(1)), deg(x, gen(1)), deg(x, gen(2))
    assert a.image.shape == x.shape and a.sigma.shape == (3,)
    assert torch.equal(a.image, b.image) and torch.equal(a.sigma, b.sigma)
    fixed = spec == "jpeg:30"  # draws nothing: the same for every seed
    assert torch.equal(a.image, c.image) if fixed else not torch.equal(a.image, c.image)
    reference = x if a.kernel is None else rk.degradations.blur(x, a.kernel)
    torch.testing.assert_close(a.sigma, (a.image - reference).pow(2).mean(dim=(1, 2, 3)).sqrt())
    assert (a.sigma > 0).all()
    assert not deg.is_gaussian and deg.noise_range is None
    assert parse_spec(deg.spec).spec == deg.spec


def test_composition_applies_in_order():
    x = torch.rand((2, 3, 37, 31), generator=gen())
    out = parse_spec("gaussian:5+jpeg:80")(x, gen(3)).image
    noisy = x + 5 / 255 * torch.randn(x.shape, generator=gen(3))
    torch.testing.assert_close(out, jpeg_compress(noisy, 80))


def test_realmix_draws_a_different_mix_per_image():
    x = torch.full((8, 3, 32, 32), 0.5)
    out = parse_spec("realmix")(x, gen())
    rms = out.sigma.numpy()
    assert len(np.unique(np.round(rms, 6))) == 8 and rms.max() / rms.min() > 2


@pytest.mark.parametrize(
    "spec,canonical",
    [("camera", "camera"), (" Camera:0.001 ", "camera:0.001"), ("camera:0.0001-0.012", "camera:0.0001-0.012"),
     ("jpeg:60-95", "jpeg:60-95"), ("JPEG:80.0", "jpeg:80"), ("camera+jpeg:60-95", "camera+jpeg:60-95"),
     ("realmix", "realmix"), ("gaussian:5+jpeg:80", "gaussian:5+jpeg:80")],
)
def test_canonical_specs(spec, canonical):
    assert parse_spec(spec).spec == canonical


@pytest.mark.parametrize(
    "spec",
    ["camera:0", "camera:1.5", "camera:", "camera:abc", "jpeg", "jpeg:0", "jpeg:101", "jpeg:50.5",
     "jpeg:90-60", "realmix:3", "camera+camera", "jpeg:30+jpeg:40", "camera:0.01-0.001"],
)
def test_bad_specs_are_one_line(spec):
    with pytest.raises(SpecError) as exc:
        parse_spec(spec)
    assert "\n" not in str(exc.value) and spec.split(":")[0].split("+")[0] in str(exc.value)


@pytest.mark.parametrize("fixture", ["gray_image", "color_image"])
def test_numpy_front_door(fixture, request):
    clean = request.getfixturevalue(fixture)
    a = rk.degrade(clean, "camera+jpeg:60-95", seed=0)
    assert a.shape == clean.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, rk.degrade(clean, "camera+jpeg:60-95", seed=0))
    assert not np.array_equal(a, rk.degrade(clean, "camera+jpeg:60-95", seed=1))
    assert np.array_equal(a, np.round(a * 255) / 255)  # JPEG last: 8-bit values, as a file holds
