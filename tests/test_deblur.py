"""Deblurring: kernels in, each method improving on its input, real borders, colour, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from restorekit.deblurring import deblur
from restorekit.errors import RestorekitError
from tests.conftest import shared_data

SIGMA = 2.55 / 255


def _psnr(clean: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.clip(x, 0, 1) - clean) ** 2)))


def _scene(size: int = 96, colour: bool = False) -> np.ndarray:
    """A natural image (camera / astronaut), downscaled: float64 in [0, 1]."""
    from skimage import data, transform

    img = (data.astronaut() if colour else data.camera()).astype(np.float64) / 255
    shape = (size, size, 3) if colour else (size, size)
    return transform.resize(img, shape, anti_aliasing=True)


def _blur(x: np.ndarray, kernel: np.ndarray, mode: str = "wrap", sigma: float = SIGMA) -> np.ndarray:
    k = kernel if x.ndim == 2 else kernel[:, :, None]
    noise = np.random.RandomState(0).normal(0, sigma, x.shape)
    return (ndi.convolve(x, k, mode=mode) + noise).astype(np.float32)


def _motion() -> np.ndarray:
    from restorekit.degradations import load_kernel

    return load_kernel("motion-9-30")


def _classical_prior():
    """A classical denoiser that takes sigma (TV, Chambolle), as pnp's prior: the same code
    path as a network, at a fraction of the cost."""
    from skimage.restoration import denoise_tv_chambolle

    def tv(image: np.ndarray, sigma: float) -> np.ndarray:
        return denoise_tv_chambolle(image, weight=0.5 * sigma).astype(np.float32)

    return tv


# --------------------------------------------------------------------------- the Fourier convention


def test_wiener_inverts_an_even_kernel_exactly():
    # A noise-free circular blur by an even-sized kernel with a well-conditioned OTF: an almost
    # unregularised Wiener must give the image back, which fails if the PSF is off by a pixel.
    rng = np.random.default_rng(0)
    x = rng.random((37, 31))
    k = np.full((4, 4), 0.02)
    k[2, 2] = 0.7  # the centre, size // 2, of scipy's convention
    k /= k.sum()
    y = ndi.convolve(x, k, mode="wrap")
    out = deblur(y, k, 0.0, "wiener", border="circular", balance=1e-9)
    assert np.abs(out - x).max() < 1e-4


def test_richardson_lucy_matches_scikit_image_inside():
    # Same algorithm; scikit-image convolves with zero padding, we circularly: the two must
    # agree away from the borders, which a wrong flip of the kernel would break.
    from skimage.restoration import richardson_lucy as skimage_rl

    from restorekit.deblurring.richardson_lucy import richardson_lucy

    rng = np.random.default_rng(1)
    y = 0.1 + 0.8 * rng.random((64, 64))
    k = rng.random((3, 5))
    k /= k.sum()
    ours = richardson_lucy(y, k, 5, init=np.full(y.shape, 0.5))
    theirs = skimage_rl(y, k, num_iter=5, clip=False)
    inside = (slice(16, -16), slice(16, -16))
    np.testing.assert_allclose(ours[inside], theirs[inside], atol=1e-5)


def test_masked_solve_without_mask_is_the_closed_form():
    from restorekit.deblurring import fourier
    from restorekit.deblurring.masked import masked_solve
    from restorekit.deblurring.wiener import wiener

    y = _blur(_scene(40), _motion())
    transfer = fourier.otf(_motion(), y.shape)
    penalty = 0.01 * np.abs(fourier.laplacian_otf(y.shape)) ** 2
    solved = masked_solve(y, np.ones(y.shape), transfer, penalty, x0=np.zeros(y.shape), iters=3)
    np.testing.assert_allclose(solved, wiener(y, _motion(), 0, balance=0.01), atol=1e-5)


def test_pnp_schedule_is_dpirs():
    from restorekit.deblurring.pnp import schedule

    levels, rhos = schedule(SIGMA, 8)
    assert levels[0] == pytest.approx(49 / 255) and levels[-1] == pytest.approx(SIGMA)
    assert np.allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))  # log-spaced, falling
    np.testing.assert_allclose(rhos, 0.23 * SIGMA**2 / levels**2)


# --------------------------------------------------------------------------- kernels


def test_kernel_files_and_specs_give_the_same_result(tmp_path):
    import h5py
    import scipy.io

    from restorekit.io import write_image

    k = _motion()
    np.save(tmp_path / "k.npy", k)
    np.savez(tmp_path / "k.npz", other=np.ones((3, 3)), motion=k)
    scipy.io.savemat(tmp_path / "k5.mat", {"kernels": np.array([np.ones((3, 3)), k], dtype=object).reshape(1, 2)})
    with h5py.File(tmp_path / "k73.mat", "w") as f:  # v7.3 is HDF5, column-major: stored transposed
        f.create_dataset("psf", data=k.T)
    write_image(tmp_path / "k.png", k / k.max(), dtype=np.uint16)

    y = _blur(_scene(40), k)
    expected = deblur(y, k, SIGMA, "wiener", border="circular")
    for spec in ("k.npy", "k.npz#motion", "k5.mat#2", "k73.mat#psf", "k.png"):
        got = deblur(y, str(tmp_path / spec), SIGMA, "wiener", border="circular")
        np.testing.assert_allclose(got, expected, atol=2e-3 if spec == "k.png" else 1e-5, err_msg=spec)


def test_levin_kernels_from_npz_and_mat_agree():
    from restorekit.degradations import load_kernel

    folder = shared_data("kernels")
    for i in (1, 3, 8):
        np.testing.assert_allclose(load_kernel(f"{folder}/levin09.npz#levin{i}"),
                                   load_kernel(f"{folder}/Levin09.mat#{i}"), atol=1e-6)


# --------------------------------------------------------------------------- each method improves


@pytest.mark.parametrize("method", ["wiener", "rl"])
def test_classical_methods_improve_on_the_input(method):
    clean = _scene()
    y = _blur(clean, _motion())
    out = deblur(y, _motion(), SIGMA, method, border="circular")
    assert out.shape == clean.shape and out.dtype == np.float32
    assert _psnr(clean, out) > _psnr(clean, y) + 2


def test_pnp_with_a_classical_prior_beats_wiener():
    clean = _scene(64)
    y = _blur(clean, _motion())
    out = deblur(y, _motion(), SIGMA, "pnp", model=_classical_prior(), border="circular")
    wiener = deblur(y, _motion(), SIGMA, "wiener", border="circular")
    assert _psnr(clean, out) > _psnr(clean, y) + 3
    assert _psnr(clean, out) > _psnr(clean, wiener) + 0.5


def test_a_classical_prior_is_found_by_name():
    from restorekit.deblurring.priors import resolve_prior

    prior = resolve_prior("bm3d", 1)
    assert getattr(prior, "name", None) == "bm3d"


def test_pnp_with_the_shipped_model_beats_wiener():
    clean = _scene(96)
    y = _blur(clean, _motion())
    out = deblur(y, _motion(), SIGMA, "pnp", border="circular")  # default prior: the shipped gray model
    assert _psnr(clean, out) > _psnr(clean, deblur(y, _motion(), SIGMA, "wiener", border="circular")) + 1


def test_noise_level_is_estimated_when_not_given():
    clean = _scene()
    y = _blur(clean, _motion(), sigma=5 / 255)
    blind = deblur(y, _motion(), None, "wiener", border="circular")
    told = deblur(y, _motion(), 5 / 255, "wiener", border="circular")
    assert abs(_psnr(clean, blind) - _psnr(clean, told)) < 0.3


# --------------------------------------------------------------------------- real borders


@pytest.mark.parametrize("method", ["wiener", "rl"])
def test_border_handling_stops_edge_ringing(method):
    # A crop of a larger blurred scene: the blur at its edges came from outside the frame,
    # so treating it as circular rings from the edges inwards.
    from restorekit.degradations import load_kernel

    kernel = load_kernel("motion-15-30")
    scene = _scene(160)
    y = _blur(scene, kernel, mode="reflect", sigma=1 / 255)[30:130, 20:120]
    clean = scene[30:130, 20:120]
    band = np.zeros(clean.shape, bool)
    band[:12], band[-12:], band[:, :12], band[:, -12:] = True, True, True, True

    def edge_mse(border):
        out = deblur(y, kernel, 1 / 255, method, border=border)
        assert out.shape == clean.shape
        return np.mean((np.clip(out, 0, 1) - clean)[band] ** 2)

    assert edge_mse("pad") < 0.25 * edge_mse("circular")


def test_padding_is_a_multiple_of_8_and_the_mask_marks_the_image():
    from restorekit.deblurring.borders import pad_for_deconvolution

    y = _scene(37)[:, :31]
    padded = pad_for_deconvolution(y, np.ones((15, 9)) / 135)
    assert padded.image.shape[0] % 8 == 0 and padded.image.shape[1] % 8 == 0
    assert padded.image.shape[0] >= 37 + 2 * 14 and padded.image.shape[1] >= 31 + 2 * 8
    np.testing.assert_array_equal(padded.crop(padded.mask), 1)
    assert padded.mask.sum() == 37 * 31
    # The taper leaves the image itself untouched a kernel's width from the seam.
    np.testing.assert_allclose(padded.crop(padded.image), y, atol=1e-12)


# --------------------------------------------------------------------------- colour, dtypes, errors


@pytest.mark.parametrize("method", ["wiener", "rl", "pnp"])
def test_colour_images(method):
    clean = _scene(64, colour=True)
    y = _blur(clean, _motion())
    prior = _classical_prior() if method == "pnp" else None  # TV denoises colour as it is
    out = deblur(y, _motion(), SIGMA, method, model=prior, border="pad")
    assert out.shape == clean.shape
    assert _psnr(clean, out) > _psnr(clean, y) + 1.5


def test_a_gray_network_serves_colour_images_channel_by_channel():
    from restorekit.models import create_model

    net = create_model("fastunet", channels=1, widths=(4, 8, 8), blocks=1)
    y = _blur(_scene(32, colour=True), _motion())
    out = deblur(y, _motion(), SIGMA, "pnp", model=net, iters=2)
    assert out.shape == y.shape and np.isfinite(out).all()


def test_integer_images_come_back_in_their_dtype():
    y = (np.clip(_blur(_scene(40), _motion()), 0, 1) * 255 + 0.5).astype(np.uint8)
    out = deblur(y[:, :, None], _motion(), SIGMA, "wiener")
    assert out.dtype == np.uint8 and out.shape == (40, 40, 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="deconv"), "unknown deblurring method"),
    (dict(border="wrap"), "unknown border"),
    (dict(sigma=25.0), "[0, 1] scale"),
    (dict(method="wiener", iters=3), "no iterations"),
    (dict(kernel="motion-x"), "unknown kernel"),
    (dict(kernel=np.zeros((3, 3))), "sums to 0"),
])
def test_bad_arguments_are_one_line_errors(kwargs, message):
    args = dict(image=np.zeros((16, 16), np.float32), kernel=_motion(), sigma=SIGMA, method="wiener")
    args.update(kwargs)
    with pytest.raises(RestorekitError, match=message.replace("[", r"\[").replace("]", r"\]")):
        deblur(**args)


def test_pnp_refuses_a_denoiser_that_ignores_sigma():
    from restorekit.models import create_model

    with pytest.raises(RestorekitError, match="not noise-conditioned"):
        deblur(np.zeros((16, 16), np.float32), _motion(), SIGMA, model=create_model("dncnn", depth=3))


# --------------------------------------------------------------------------- evaluate and the CLI


def test_methods_by_name_and_in_the_evaluate_loop(tmp_path):
    from restorekit.deblurring.methods import bind_kernel, deblur_method
    from restorekit.evaluate.benchmark import evaluate
    from restorekit.io import write_image

    write_image(tmp_path / "a.png", _scene(48))
    np.save(tmp_path / "k.npy", _motion())
    spec = f"blur:{tmp_path / 'k.npy'}+gaussian:2.55"
    methods = [bind_kernel(deblur_method(name), str(tmp_path / "k.npy")) for name in ("wiener", "rl:20")]
    records = evaluate(methods, [tmp_path / "a.png"], spec, protocol="paper")
    scores = {r.method: r.psnr for r in records}
    assert set(scores) == {"noisy", "wiener", "rl:20"}
    assert scores["wiener"] > scores["noisy"] + 2 and scores["rl:20"] > scores["noisy"] + 2

    with pytest.raises(RestorekitError, match="needs a blur"):
        deblur_method("wiener")(np.zeros((8, 8), np.float32), SIGMA)
    with pytest.raises(RestorekitError, match="unknown deblurring method"):
        deblur_method("deconvolve")
    with pytest.raises(RestorekitError, match="bad value"):
        deblur_method("rl:many")


def test_cli_deblurs_a_file(tmp_path, run_cli):
    from restorekit.io import read_image, write_image

    clean = _scene(48)
    write_image(tmp_path / "b.png", np.clip(_blur(clean, _motion(), mode="reflect"), 0, 1))
    code, out, err = run_cli("deblur", tmp_path / "b.png", "--kernel", "motion-9-30", "-o", tmp_path / "out",
                             "--method", "wiener", "--sigma", "2.55")
    assert code == 0, err
    restored, _ = read_image(tmp_path / "out" / "b.png")
    assert restored.shape == clean.shape
    assert _psnr(clean, restored) > _psnr(clean, read_image(tmp_path / "b.png")[0]) + 2


@pytest.mark.parametrize("kernel, message", [
    ("missing.npz#levin3", "kernel file not found"),
    ("motion-fifteen", "unknown kernel"),
])
def test_cli_kernel_errors_are_one_line(tmp_path, run_cli, kernel, message):
    from restorekit.io import write_image

    write_image(tmp_path / "b.png", _scene(16))
    code, out, err = run_cli("deblur", tmp_path / "b.png", "--kernel", str(tmp_path / kernel) if "." in kernel
                             else kernel, "-o", tmp_path / "out")
    assert code == 1
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_refuses_model_with_a_classical_method(tmp_path, run_cli):
    from restorekit.io import write_image

    write_image(tmp_path / "b.png", _scene(16))
    code, _, err = run_cli("deblur", tmp_path / "b.png", "-k", "gaussian-1.0", "-o", tmp_path / "o.png",
                           "--method", "rl", "--model", "bm3d")
    assert code == 1 and err.startswith("error: --model")
