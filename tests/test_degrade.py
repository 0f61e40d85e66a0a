"""Degradations: noise statistics, seeding, blur against scipy, kernels, specs, the paper protocol."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from restorekit.degradations import (
    Degradation,
    blur,
    degrade,
    gaussian,
    kernel_otf,
    load_kernel,
    paper_degrade,
    parse_spec,
    poisson,
    poisson_gaussian,
    salt_pepper,
    speckle,
)
from restorekit.errors import SpecError
from tests.conftest import shared_data


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def flat(value: float, shape=(1, 1, 512, 512)) -> torch.Tensor:
    return torch.full(shape, value)


# --- noise statistics -------------------------------------------------------------------
# 512x512 samples: the relative standard error of a sample std is 1/sqrt(2n) ~ 0.14 %,
# so a 1 % tolerance is about 7 standard errors: tight enough to catch a wrong scale.


def test_gaussian_std_matches_sigma():
    x = flat(0.5)
    noise = gaussian(x, 25 / 255, gen()) - x
    assert abs(noise.std().item() / (25 / 255) - 1) < 0.01
    assert abs(noise.mean().item()) < 0.002


def test_gaussian_per_image_sigma():
    x = flat(0.5, (3, 1, 256, 256))
    sigma = torch.tensor([5.0, 25.0, 50.0]) / 255
    noise = gaussian(x, sigma, gen()) - x
    np.testing.assert_allclose(noise.std(dim=(1, 2, 3)).numpy(), sigma.numpy(), rtol=0.02)
    with pytest.raises(ValueError, match="one per image"):
        gaussian(x, torch.ones(2), gen())


def test_poisson_mean_and_variance():
    peak, level = 30.0, 0.3
    y = poisson(flat(level), peak, gen())
    assert abs(y.mean().item() - level) < 0.003
    assert abs(y.var().item() / (level / peak) - 1) < 0.02  # Var = x / peak
    counts = y * peak
    assert torch.equal(counts, counts.round())  # integer photon counts


def test_poisson_gaussian_variance():
    peak, level, sigma = 30.0, 0.3, 5 / 255
    y = poisson_gaussian(flat(level), peak, sigma, gen())
    assert abs(y.var().item() / (level / peak + sigma**2) - 1) < 0.02


def test_speckle_statistics():
    level, sigma = 0.6, 0.25
    y = speckle(flat(level), sigma, gen())
    assert abs(y.mean().item() - level) < 0.002
    assert abs(y.std().item() / (level * sigma) - 1) < 0.01
    assert torch.equal(speckle(flat(0.0, (1, 1, 8, 8)), sigma, gen()), flat(0.0, (1, 1, 8, 8)))


def test_salt_pepper_fraction():
    x = flat(0.5)
    y = salt_pepper(x, 0.1, gen())
    zeros, ones = (y == 0).float().mean().item(), (y == 1).float().mean().item()
    assert abs(zeros - 0.05) < 0.003 and abs(ones - 0.05) < 0.003
    assert torch.equal(y[(y != 0) & (y != 1)], x[(y != 0) & (y != 1)])  # the rest untouched


def test_generator_on_cpu_serves_any_dtype():
    y = gaussian(flat(0.5, (1, 1, 8, 8)).double(), 0.1, gen())
    assert y.dtype == torch.float64


# --- seeding ----------------------------------------------------------------------------

SPECS = ["gaussian:25", "gaussian:0-55", "poisson:30", "poisson:10-60+gaussian:5", "saltpepper:0.1",
         "speckle:0.25", "blur:gaussian-1.6+gaussian:2.55", "blur:motion-9-30+poisson:20"]


@pytest.mark.parametrize("spec", SPECS)
def test_same_seed_same_image_different_seed_differs(spec):
    x = torch.rand((2, 3, 37, 31), generator=gen(123))
    deg = parse_spec(spec)
    a, b, c = deg(x, gen(1)), deg(x, gen(1)), deg(x, gen(2))
    assert torch.equal(a.image, b.image) and torch.equal(a.sigma, b.sigma)
    assert not torch.equal(a.image, c.image)
    assert a.image.shape == x.shape and a.sigma.shape == (2,)


def test_numpy_degrade_is_seeded_and_unclipped(gray_image, color_image):
    a = degrade(gray_image, "gaussian:50", seed=3)
    assert a.shape == gray_image.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, degrade(gray_image, "gaussian:50", seed=3))
    assert not np.array_equal(a, degrade(gray_image, "gaussian:50", seed=4))
    assert a.min() < 0 or a.max() > 1  # not clipped
    c = degrade(color_image, "poisson:30", seed=0)
    assert c.shape == color_image.shape
    np.testing.assert_array_equal(degrade(gray_image, "none"), gray_image)


def test_range_draws_one_sigma_per_image():
    x = flat(0.5, (16, 1, 128, 128))
    out = parse_spec("gaussian:0-55")(x, gen())
    sigma = out.sigma.numpy()
    assert len(np.unique(sigma)) == 16
    assert sigma.min() >= 0 and sigma.max() <= 55 / 255
    assert sigma.max() - sigma.min() > 20 / 255  # spread over the range, not one value
    measured = (out.image - x).std(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(measured, sigma, rtol=0.03, atol=1e-4)


def test_skewed_range_draws_the_low_end_more_often():
    x = flat(0.5, (4000, 1, 1, 1))
    uniform = parse_spec("gaussian:0-75")(x, gen()).sigma.numpy() * 255
    skewed = parse_spec("gaussian:0-75^1.5")(x, gen()).sigma.numpy() * 255
    assert skewed.min() >= 0 and skewed.max() <= 75
    # P(sigma < 14) = (14/75)^(1/1.5) = 0.33 skewed, 14/75 = 0.19 uniform; the median 75 * 0.5^1.5 = 26.5
    assert abs((skewed < 14).mean() - (14 / 75) ** (1 / 1.5)) < 0.03
    assert abs((uniform < 14).mean() - 14 / 75) < 0.03
    assert abs(np.median(skewed) - 75 * 0.5 ** 1.5) < 2.5
    # power 1 is the uniform draw itself, bit for bit (runs begun before ^P resume exactly)
    same = parse_spec("gaussian:0-75^1")(x, gen()).sigma.numpy() * 255
    np.testing.assert_array_equal(same, uniform)


def test_poisson_range_and_reported_sigma_is_rms():
    x = flat(0.5, (8, 1, 64, 64))
    out = parse_spec("poisson:10-60")(x, gen())
    rms = (out.image - x).pow(2).mean(dim=(1, 2, 3)).sqrt()
    torch.testing.assert_close(out.sigma, rms)
    assert out.sigma.max() / out.sigma.min() > 1.3  # peaks differ per image


# --- blur -------------------------------------------------------------------------------


def _scipy_blur(x: torch.Tensor, k: np.ndarray, mode: str) -> np.ndarray:
    arr = x.numpy().astype(np.float64)
    return np.stack([[ndi.convolve(c, k.astype(np.float64), mode=mode) for c in img] for img in arr])


# 5x5 and 4x6 take the conv2d path, 25x25 and 16x16 the FFT path, 41x45 is larger than the image.
@pytest.mark.parametrize("shape", [(5, 5), (4, 6), (25, 25), (16, 16), (41, 45), (1, 2)])
def test_circular_blur_equals_scipy_wrap(shape):
    k = np.random.default_rng(0).random(shape).astype(np.float32)
    k /= k.sum()
    x = torch.rand((2, 3, 37, 31), generator=gen())
    np.testing.assert_allclose(blur(x, k, "circular").numpy(), _scipy_blur(x, k, "wrap"), atol=1e-5)


@pytest.mark.parametrize("mode,scipy_mode", [("reflect", "reflect"), ("replicate", "nearest")])
@pytest.mark.parametrize("shape", [(5, 5), (4, 6), (15, 15)])
def test_edge_blur_equals_scipy(mode, scipy_mode, shape):
    k = np.random.default_rng(1).random(shape).astype(np.float32)
    k /= k.sum()
    x = torch.rand((1, 2, 37, 31), generator=gen())
    np.testing.assert_allclose(blur(x, k, mode).numpy(), _scipy_blur(x, k, scipy_mode), atol=1e-5)


def test_kernel_otf_matches_blur():
    k = load_kernel("motion-9-30")
    x = torch.rand((1, 1, 37, 31), generator=gen())
    y = torch.fft.irfft2(torch.fft.rfft2(x) * kernel_otf(k, (37, 31)), s=(37, 31))
    torch.testing.assert_close(y, blur(x, k, "circular"), atol=1e-5, rtol=0)


def test_blur_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        blur(torch.zeros(1, 1, 4, 4), np.ones((3, 3)), "wrap")
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        blur(torch.zeros(4, 4), np.ones((3, 3)))


# --- kernels ----------------------------------------------------------------------------


def test_gaussian_kernel_size_and_std():
    k = load_kernel("gaussian-1.6")
    assert k.shape == (11, 11) and k.dtype == np.float32
    assert abs(k.sum() - 1) < 1e-6
    np.testing.assert_allclose(k, k.T, atol=1e-8)
    r = np.arange(11) - 5
    assert abs(np.sqrt((k.sum(0) * r**2).sum()) - 1.6) < 0.02  # truncation at 3 std shrinks it a little


def test_anisotropic_gaussian_orientation():
    k0 = load_kernel("gaussian-3.0-1.0-0").astype(np.float64)
    r = np.arange(k0.shape[0]) - k0.shape[0] // 2
    assert abs(np.sqrt((k0.sum(0) * r**2).sum()) - 3.0) < 0.05  # along x
    assert abs(np.sqrt((k0.sum(1) * r**2).sum()) - 1.0) < 0.05  # along y
    np.testing.assert_allclose(load_kernel("gaussian-3.0-1.0-90"), k0.T, atol=1e-7)
    k30 = load_kernel("gaussian-3.0-1.0-30").astype(np.float64)
    y, x = np.mgrid[: k30.shape[0], : k30.shape[1]] - k30.shape[0] // 2
    cov = np.cov(np.stack([x.ravel(), -y.ravel()]), aweights=k30.ravel())  # y up
    angle = np.degrees(np.arctan2(*np.linalg.eigh(cov)[1][:, 1][::-1]))
    assert abs((angle % 180) - 30) < 1


def test_motion_and_uniform_kernels():
    np.testing.assert_allclose(load_kernel("motion-15-0"), np.full((1, 15), 1 / 15), rtol=1e-6)
    np.testing.assert_allclose(load_kernel("motion-15-90"), np.full((15, 1), 1 / 15), rtol=1e-6)
    np.testing.assert_array_equal(load_kernel("motion-1-30"), [[1.0]])
    k = load_kernel("motion-15-45")
    assert abs(k.sum() - 1) < 1e-6 and k.shape[0] % 2 == 1
    np.testing.assert_allclose(k, np.rot90(k, 2), atol=1e-8)  # symmetric about the centre
    assert k[0, -1] > 0 and k[-1, 0] > 0 and k[0, 0] == 0  # runs up-right (45 degrees, y down)
    np.testing.assert_allclose(load_kernel("uniform-9"), np.full((9, 9), 1 / 81), rtol=1e-6)


def test_mat_v5_equals_npz():
    npz = np.load(shared_data("kernels", "kernels12.npz"))
    mat = shared_data("kernels", "kernels_12.mat")
    for i in range(1, 13):
        np.testing.assert_allclose(load_kernel(f"{mat}#{i}"), npz[f"k{i:02d}"], atol=1e-7)
    np.testing.assert_allclose(load_kernel(f"{mat}#kernels{{5}}"), npz["k05"], atol=1e-7)


def test_mat_v73_equals_npz():
    npz = np.load(shared_data("kernels", "levin09.npz"))
    mat = shared_data("kernels", "Levin09.mat")
    for i in range(1, 9):
        k = load_kernel(f"{mat}#{i}")
        assert k.dtype == np.float32
        np.testing.assert_allclose(k, npz[f"levin{i}"], atol=1e-7)  # transposed back from HDF5
    np.testing.assert_array_equal(load_kernel(f"{shared_data('kernels', 'levin09.npz')}#levin3"), npz["levin3"])
    with pytest.raises(SpecError, match="holds 8 kernels"):
        load_kernel(str(mat))
    with pytest.raises(SpecError, match="out of range"):
        load_kernel(f"{mat}#9")


def test_kernel_files_npy_npz_png(tmp_path):
    from PIL import Image

    raw = np.random.default_rng(0).random((7, 5)).astype(np.float32)
    np.save(tmp_path / "k.npy", raw)
    np.testing.assert_allclose(load_kernel(str(tmp_path / "k.npy")), raw / raw.sum(), rtol=1e-6)
    np.savez(tmp_path / "one.npz", only=raw)
    np.testing.assert_allclose(load_kernel(str(tmp_path / "one.npz")), raw / raw.sum(), rtol=1e-6)
    np.savez(tmp_path / "two.npz", a=raw, b=raw.T)
    np.testing.assert_allclose(load_kernel(f"{tmp_path / 'two.npz'}#b"), raw.T / raw.sum(), rtol=1e-6)
    np.testing.assert_allclose(load_kernel(f"{tmp_path / 'two.npz'}#2"), raw.T / raw.sum(), rtol=1e-6)
    png = (raw * 255).astype(np.uint8)
    Image.fromarray(png).save(tmp_path / "k.png")
    np.testing.assert_allclose(load_kernel(str(tmp_path / "k.png")), png / png.sum(), rtol=1e-5)
    with pytest.raises(SpecError, match="no kernel named"):
        load_kernel(f"{tmp_path / 'two.npz'}#c")


@pytest.mark.parametrize(
    "spec", ["gauss-2", "gaussian-0", "gaussian-1-2", "motion-0-10", "uniform-0", "missing.npz#a", "gaussian-400", ""]
)
def test_bad_kernel_specs(spec):
    with pytest.raises(SpecError):
        load_kernel(spec)


def test_zero_kernel_file_rejected(tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((3, 3)))
    with pytest.raises(SpecError, match="sums to 0"):
        load_kernel(str(tmp_path / "z.npy"))
    (tmp_path / "bad.npz").write_text("junk")
    with pytest.raises(SpecError, match="cannot read kernel file"):
        load_kernel(f"{tmp_path / 'bad.npz'}#a")


# --- specs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,canonical,noise_range,is_gaussian",
    [
        ("gaussian:25", "gaussian:25", (25 / 255, 25 / 255), True),
        (" Gaussian:0-55 ", "gaussian:0-55", (0.0, 55 / 255), True),
        ("gaussian:0-75^1.50", "gaussian:0-75^1.5", (0.0, 75 / 255), True),
        ("gaussian:0-75^1", "gaussian:0-75", (0.0, 75 / 255), True),
        ("poisson:30+gaussian:5", "poisson:30+gaussian:5", None, False),
        ("saltpepper:0.1", "saltpepper:0.1", None, False),
        ("speckle:0.25", "speckle:0.25", None, False),
        ("blur:gaussian-1.6+gaussian:2.55", "blur:gaussian-1.6+gaussian:2.55", (0.01, 0.01), True),
        ("blur:motion-15-45", "blur:motion-15-45", (0.0, 0.0), True),
        ("blur:uniform-9@reflect+gaussian:5.0", "blur:uniform-9@reflect+gaussian:5", (5 / 255, 5 / 255), True),
        ("none", "none", (0.0, 0.0), True),
    ],
)
def test_parse_spec(spec, canonical, noise_range, is_gaussian):
    deg = parse_spec(spec)
    assert deg.spec == canonical and deg.is_gaussian == is_gaussian
    if noise_range is None:
        assert deg.noise_range is None
    else:
        np.testing.assert_allclose(deg.noise_range, noise_range)
    assert parse_spec(deg.spec).spec == canonical  # canonical specs parse to themselves


@pytest.mark.parametrize(
    "spec",
    ["", "gaussian", "gaussian:", "gaussian:abc", "gaussian:-5", "gaussian:55-0", "gausian:25", "poisson:0",
     "saltpepper:1.5", "gaussian:25+gaussian:5", "gaussian:25+blur:gaussian-1.6", "blur:foo-3", "none+gaussian:5",
     "blur:gaussian-1.6@wrap", "blur:", "gaussian:25^2", "gaussian:0-75^0", "gaussian:0-75^", "jpeg:30-90^2",
     "camera:0.001-0.01^2"],
)
def test_bad_specs_raise_spec_error(spec):
    with pytest.raises(SpecError) as exc:
        parse_spec(spec)
    assert "\n" not in str(exc.value)


def test_blur_mode_argument():
    assert parse_spec("blur:uniform-3", blur_mode="reflect").blur_mode == "reflect"
    assert parse_spec("blur:uniform-3").blur_mode == "circular"
    with pytest.raises(SpecError):
        parse_spec("blur:uniform-3@replicate", blur_mode="reflect")


def test_degradation_is_immutable():
    deg = parse_spec("blur:gaussian-1.6+gaussian:5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        deg.spec = "gaussian:50"
    with pytest.raises(ValueError):
        deg.kernel[0, 0] = 1.0


def test_blur_then_noise_in_order():
    x = torch.rand((2, 1, 37, 31), generator=gen())
    deg = parse_spec("blur:gaussian-1.6+gaussian:10")
    out = deg(x, gen(5))
    blurred = blur(x, deg.kernel)
    expected = gaussian(blurred, 10 / 255, gen(5))
    torch.testing.assert_close(out.image, expected)
    torch.testing.assert_close(out.kernel, torch.from_numpy(deg.kernel.copy()))
    torch.testing.assert_close(out.sigma, torch.full((2,), 10 / 255))


def test_none_is_identity():
    x = torch.rand((2, 3, 8, 8), generator=gen())
    out = parse_spec("none")(x, gen())
    assert torch.equal(out.image, x) and out.image is not x
    assert torch.equal(out.sigma, torch.zeros(2)) and out.kernel is None


# --- the paper protocol -----------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["gray_image", "color_image"])
def test_paper_protocol_equals_np_random_seed_recipe(fixture, request):
    clean = request.getfixturevalue(fixture)
    state = np.random.get_state()
    try:
        np.random.seed(0)
        expected = (clean + np.random.normal(0, 25 / 255.0, clean.shape)).astype(np.float32)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(paper_degrade(clean, "gaussian:25"), expected)
    # RandomState(0) is exactly the stream of np.random.seed(0), and leaves the global one alone.
    np.testing.assert_array_equal(np.random.RandomState(0).normal(0, 1, 100), _seeded_global_normal(100))
    before = np.random.get_state()[1].copy()
    paper_degrade(clean, "gaussian:25")
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def _seeded_global_normal(n: int) -> np.ndarray:
    state = np.random.get_state()
    try:
        np.random.seed(0)
        return np.random.normal(0, 1, n)
    finally:
        np.random.set_state(state)


def test_paper_protocol_with_blur(color_image):
    deg = parse_spec("blur:motion-9-30+gaussian:2.55")
    rng = np.random.RandomState(0)
    blurred = ndi.convolve(color_image, deg.kernel[..., None], mode="wrap")
    expected = (blurred + rng.normal(0, 2.55 / 255, blurred.shape)).astype(np.float32)
    np.testing.assert_array_equal(paper_degrade(color_image, deg), expected)
    # The same blur as the torch path, which benchmarks and training share.
    torch_blurred = blur(torch.from_numpy(color_image).permute(2, 0, 1)[None], deg.kernel)[0].permute(1, 2, 0)
    np.testing.assert_allclose(torch_blurred.numpy(), blurred, atol=1e-5)


@pytest.mark.parametrize("spec", ["poisson:30", "gaussian:0-55", "blur:uniform-3@reflect+gaussian:5"])
def test_paper_protocol_rejects_what_papers_did_not_define(spec, gray_image):
    with pytest.raises(SpecError):
        paper_degrade(gray_image, spec)


def test_degradation_accepts_itself():
    deg = parse_spec("gaussian:25")
    assert parse_spec(deg) is deg and isinstance(deg, Degradation)
