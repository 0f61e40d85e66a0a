"""``restorekit denoise`` and its runner: kinds of files kept, refusals, failures, tiling, blind mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorekit import outputs
from restorekit.infer import denoise
from restorekit.errors import RestorekitError
from restorekit.infer import apply as infer_apply
from restorekit.io import from_float32, read_image, write_image
from restorekit.models import create_model, load_model
from restorekit.models.weights import save_weights


def _randomise(model, seed=0, std=0.05):
    """Random weights everywhere: zero-initialised tails would make the model the identity."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)
    return model


def _save(tmp_path, name, arch, std=0.05, **kwargs):
    model = _randomise(create_model(arch, **kwargs), std=std)
    return save_weights(tmp_path / "models" / f"{name}.safetensors", model, {"note": "test"})


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    return {
        "gray": _save(tmp, "gray", "fastunet", channels=1, widths=[8, 16, 32], blocks=1),
        "color": _save(tmp, "color", "fastunet", channels=3, widths=[8, 16, 32], blocks=1),
        "dncnn": _save(tmp, "dncnn", "dncnn", std=0.2, channels=1, depth=5, features=8),
    }


def _noisy(shape, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    clean = 0.5 + 0.3 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    if len(shape) == 3:
        clean = np.stack([clean * (0.8 + 0.1 * c) for c in range(shape[2])], axis=-1)
    return np.clip(clean + rng.normal(0, 25 / 255, shape), 0, 1).astype(np.float32)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and all(line.startswith(("error:", "note:")) for line in lines), err
    assert "Traceback" not in err
    return lines[-1]


@pytest.mark.parametrize("ensemble", [1, 4])
def test_gray_png_matches_the_library(run_cli, tmp_path, models, ensemble):
    src = write_image(tmp_path / "in" / "a.png", _noisy((37, 45)))
    code, out, err = run_cli("denoise", src, "-o", tmp_path / "out", "--model", models["gray"], "--sigma", "25",
                             "--ensemble", str(ensemble))
    assert code == 0, err
    got, info = read_image(tmp_path / "out" / "a.png")
    assert info.dtype == np.uint8 and info.format == "png" and got.shape == (37, 45)
    # the CLI is read -> denoise(sigma=25/255) -> write: the same bytes as doing it by hand
    image, _ = read_image(src)
    net = load_model(models["gray"])
    expected = from_float32(denoise(image, net, sigma=25 / 255, ensemble=ensemble), np.uint8)
    if ensemble > 1:  # the flips/rotations made a difference
        assert not np.array_equal(expected, from_float32(denoise(image, net, sigma=25 / 255), np.uint8))
    assert np.array_equal(from_float32(got, np.uint8), expected)
    assert not np.array_equal(expected, from_float32(image, np.uint8))  # the model did something


def test_16bit_tiff_stays_16bit(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.tif", _noisy((33, 40)), dtype=np.uint16)
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out", "--model", models["gray"], "--sigma", "10")
    assert code == 0, err
    _, info = read_image(tmp_path / "out" / "a.tif")
    assert info.dtype == np.uint16 and info.format == "tiff"
    import tifffile

    raw = tifffile.imread(tmp_path / "out" / "a.tif")
    assert raw.dtype == np.uint16 and raw.shape == (33, 40)
    assert (raw % 257 != 0).mean() > 0.9  # real 16-bit values, not 8-bit ones widened


def test_rgba_keeps_its_alpha_bit_exact(run_cli, tmp_path, models):
    rgb = from_float32(_noisy((30, 26, 3)), np.uint8)
    alpha = np.random.default_rng(1).integers(0, 256, (30, 26), dtype=np.uint8)
    from PIL import Image

    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "a.png")
    code, _, err = run_cli("denoise", tmp_path / "a.png", "-o", tmp_path / "out", "--model", models["color"])
    assert code == 0, err
    back = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    assert back.shape == (30, 26, 4) and back.dtype == np.uint8
    assert np.array_equal(back[..., 3], alpha)
    assert not np.array_equal(back[..., :3], rgb)


def test_blind_mode_equals_the_library_blind_mode(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.tif", _noisy((40, 48)), dtype=np.float32)
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out", "--model", models["gray"], "--sigma", "auto")
    assert code == 0, err
    got, info = read_image(tmp_path / "out" / "a.tif")
    assert info.dtype == np.float32
    expected = denoise(read_image(src)[0], load_model(models["gray"]), sigma=None)
    np.testing.assert_array_equal(got, expected)  # float files keep the values, unclipped


def test_folder_input_with_suffix_keeps_each_format(run_cli, tmp_path, models):
    write_image(tmp_path / "in" / "a.png", _noisy((20, 24)))
    write_image(tmp_path / "in" / "b.tif", _noisy((24, 20)), dtype=np.uint16)
    code, out, err = run_cli("denoise", tmp_path / "in", "-o", tmp_path / "in", "--suffix", "_dn",
                             "--model", models["gray"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.png", "a_dn.png", "b.tif", "b_dn.tif"]
    assert read_image(tmp_path / "in" / "b_dn.tif")[1].dtype == np.uint16
    assert "denoised 2 images" in out


def test_one_input_to_an_output_file(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "sub" / "clean.png", "--model", models["gray"])
    assert code == 0, err
    assert read_image(tmp_path / "sub" / "clean.png")[0].shape == (20, 24)
    code, _, err = run_cli("denoise", src, tmp_path / "sub" / "clean.png", "-o", tmp_path / "x.png",
                           "--model", models["gray"], "--overwrite")
    assert code == 1 and "names a file but 2 images" in _one_error_line(err)


def test_refuses_to_overwrite_an_input_or_an_output(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    before = src.read_bytes()
    code, _, err = run_cli("denoise", src, "-o", tmp_path, "--model", models["gray"])
    assert code == 1 and "is the input" in _one_error_line(err) and "--overwrite" in err
    assert src.read_bytes() == before
    # an existing output blocks the whole run before any file is written
    write_image(tmp_path / "b.png", _noisy((20, 24), seed=1))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.png").write_bytes(b"keep me")
    code, _, err = run_cli("denoise", src, tmp_path / "b.png", "-o", tmp_path / "out", "--model", models["gray"])
    assert code == 1 and "exists" in _one_error_line(err)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.png"]
    assert (tmp_path / "out" / "b.png").read_bytes() == b"keep me"


def test_overwrite_replaces_the_input_in_place(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    before = src.read_bytes()
    code, _, err = run_cli("denoise", src, "-o", src, "--model", models["gray"], "--sigma", "25", "--overwrite")
    assert code == 0, err
    assert src.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temp file left behind


def test_two_inputs_onto_one_output_are_refused(run_cli, tmp_path, models):
    write_image(tmp_path / "x" / "a.png", _noisy((20, 24)))
    write_image(tmp_path / "y" / "a.png", _noisy((20, 24)))
    code, _, err = run_cli("denoise", tmp_path / "x", tmp_path / "y", "-o", tmp_path / "out", "--model", models["gray"])
    assert code == 1 and "would both be written" in _one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_a_bad_file_is_reported_and_the_others_are_written(run_cli, tmp_path, models):
    write_image(tmp_path / "in" / "a.png", _noisy((20, 24)))
    (tmp_path / "in" / "b.png").write_bytes(b"not a png")
    write_image(tmp_path / "in" / "c.png", _noisy((20, 24, 3)))  # colour image, gray model
    write_image(tmp_path / "in" / "d.tif", _noisy((24, 20)), dtype=np.uint16)
    code, out, err = run_cli("denoise", tmp_path / "in", "-o", tmp_path / "out", "--model", models["gray"])
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "d.tif"]
    lines = err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    assert lines[0].startswith("error: ") and "b.png" in lines[0] and "cannot read" in lines[0]
    assert "c.png" in lines[1] and "expects gray" in lines[1]
    assert lines[2].startswith("error: 2 of 4 images failed (2 written to ")


@pytest.mark.parametrize("value", ["abc", "-3", "300", "nan"])
def test_bad_sigma_is_one_line(run_cli, tmp_path, models, value):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out", "--model", models["gray"], "--sigma", value)
    assert code == 1 and "--sigma" in _one_error_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,message", [
    (("--model", "no-such-model"), "unknown model 'no-such-model'"),
    (("--tile", "8"), "tile must be at least 16"),
    (("--tile", "32", "--overlap", "20"), "overlap must be between 0 and half"),
    (("--device", "cuda:99" if torch.cuda.is_available() else "cuda"), "cuda"),
])
def test_bad_options_are_one_line(run_cli, tmp_path, models, args, message):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    extra = () if args[0] == "--model" else ("--model", models["gray"])
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out", *extra, *args)
    if args[0] == "--device" and torch.cuda.is_available():
        pytest.skip("cuda present: the device check is for machines without one")
    assert code == 1 and message in _one_error_line(err)


def test_missing_default_model_is_one_line(run_cli, tmp_path, monkeypatch):
    from restorekit.infer import network

    monkeypatch.setitem(network.DEFAULT_MODELS, 1, "not-shipped.gray")
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out")
    assert code == 1 and "unknown model 'not-shipped.gray'" in _one_error_line(err)
    assert len(err.strip().splitlines()) == 1  # fatal once, not once per file


def test_sigma_with_an_unconditioned_model_says_it_is_ignored(run_cli, tmp_path, models):
    src = write_image(tmp_path / "a.png", _noisy((20, 24)))
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out", "--model", models["dncnn"], "--sigma", "25")
    assert code == 0 and "--sigma is ignored" in err


# -- tiling -------------------------------------------------------------------------------


def test_tiled_equals_untiled_through_the_cli(run_cli, tmp_path, models):
    # DnCNN depth 5: receptive radius 5 <= overlap // 4, so the blend is exact (tiling.py)
    src = write_image(tmp_path / "a.tif", _noisy((100, 90)), dtype=np.float32)
    model = models["dncnn"]
    assert run_cli("denoise", src, "-o", tmp_path / "whole.tif", "--model", model)[0] == 0
    tiled_args = ("--tile", "40", "--overlap", "20")
    assert run_cli("denoise", src, "-o", tmp_path / "tiled.tif", "--model", model, *tiled_args)[0] == 0
    whole, tiled = read_image(tmp_path / "whole.tif")[0], read_image(tmp_path / "tiled.tif")[0]
    assert np.abs(tiled - whole).max() < 1e-4
    assert np.abs(whole - read_image(src)[0]).max() > 1e-2  # not the identity


def test_large_images_are_tiled_automatically(monkeypatch, models):
    net = load_model(models["gray"])
    image = _noisy((70, 90))
    calls = []
    monkeypatch.setattr(infer_apply, "TILE_ABOVE", 64 * 64)
    monkeypatch.setattr(infer_apply, "DEFAULT_TILE", 32)
    out = denoise(image, net, 25 / 255, progress=lambda d, n: calls.append((d, n)))
    assert out.shape == image.shape and out.dtype == np.float32
    assert len(calls) > 1 and calls[-1][0] == calls[-1][1]  # went through several tiles
    # tiled FastUNet differs from untiled only slightly (its receptive field exceeds the margin)
    whole = denoise(image, net, sigma=25 / 255, tile=1024)
    assert np.abs(out - whole).mean() < 0.01


def test_small_images_are_not_tiled(models):
    calls = []
    image = _noisy((30, 30))
    out = denoise(image, load_model(models["gray"]), 0.1, tile=64, progress=lambda d, n: calls.append((d, n)))
    assert calls == [(1, 1)] and out.shape == image.shape


def test_an_output_onto_another_input_is_refused_even_with_overwrite(tmp_path):
    write_image(tmp_path / "a.png", _noisy((20, 24)))
    write_image(tmp_path / "a_dn.png", _noisy((20, 24)))
    with pytest.raises(RestorekitError, match="another input"):
        outputs.plan_outputs([tmp_path], tmp_path, suffix="_dn", overwrite=True)
    jobs = outputs.plan_outputs([tmp_path / "a.png"], tmp_path / "out", suffix="_dn")
    assert jobs == [outputs.Job(tmp_path / "a.png", tmp_path / "out" / "a_dn.png")]


# -- one core: the command line and Python agree -------------------------------------------


@pytest.mark.parametrize("sigma", [None, 20])
def test_cli_and_api_agree_for_a_stored_blind_level_and_tile_100(run_cli, tmp_path, sigma, monkeypatch):
    # A model trained on non-Gaussian noise stores the level it was told (blind_sigma);
    # both paths must take it when no sigma is given, and tile the same way at tile=100
    # (the tile is rounded to the model's multiple before the overlap is chosen).
    model = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1))
    path = save_weights(tmp_path / "sp.safetensors", model, {"blind_sigma": 0.17})
    image = _noisy((150, 230))
    src = write_image(tmp_path / "in.tif", image, dtype=np.float32)
    args = ["--sigma", str(sigma)] if sigma is not None else []
    code, _, err = run_cli("denoise", src, "-o", tmp_path / "out.tif", "--model", path, "--tile", "100", *args)
    assert code == 0, err
    by_cli = read_image(tmp_path / "out.tif")[0]
    by_api = denoise(image, str(path), None if sigma is None else sigma / 255, tile=100)
    np.testing.assert_array_equal(by_cli, by_api)
    told = denoise(image, str(path), 0.17 if sigma is None else sigma / 255, tile=100)
    np.testing.assert_array_equal(by_api, told)
    import restorekit.estimate

    def no_estimate(*a, **k):
        raise AssertionError("a model with a stored blind level must not be given an estimate")

    monkeypatch.setattr(restorekit.estimate, "estimate_sigma", no_estimate)
    assert run_cli("denoise", src, "-o", tmp_path / "again.tif", "--model", path, "--tile", "100", *args)[0] == 0
    np.testing.assert_array_equal(read_image(tmp_path / "again.tif")[0], by_api)


def test_a_module_is_never_moved(models):
    from restorekit.infer import resolve_network

    net = load_model(models["gray"])
    assert resolve_network(net, 1, device="cpu") is net and resolve_network(net, 1) is net
    if torch.cuda.is_available():  # on a GPU machine: asked for another device, it refuses
        with pytest.raises(RestorekitError, match="move it yourself"):
            denoise(_noisy((20, 24)), net, 0.1, device="cuda")
    else:
        with pytest.raises(RestorekitError, match="no CUDA device"):
            denoise(_noisy((20, 24)), net, 0.1, device="cuda")
    assert next(net.parameters()).device.type == "cpu"


def test_strength_scales_the_level_a_conditioned_model_is_told(models):
    net, image = load_model(models["gray"]), _noisy((24, 32))
    np.testing.assert_array_equal(denoise(image, net, 0.1, strength=0.5), denoise(image, net, 0.05))
    with pytest.raises(RestorekitError, match="strength"):
        denoise(image, net, 0.1, strength=-1)


def test_non_finite_pixels_are_refused_or_filled_and_put_back(models):
    net, image = load_model(models["gray"]), _noisy((24, 32))
    image[3, 4], image[10, 11] = np.nan, np.inf
    with pytest.raises(RestorekitError, match="2 non-finite"):
        denoise(image, net, 0.1)
    out = denoise(image, net, 0.1, nan="fill")
    assert np.isnan(out[3, 4]) and np.isinf(out[10, 11])
    finite = np.isfinite(image)
    assert np.isfinite(out[finite]).all()  # nothing spread


def test_float_images_outside_unit_range_are_restored_in_their_own_range(models):
    net, image = load_model(models["gray"]), _noisy((24, 32))
    hdr = image * 1000.0 + 50.0
    out = denoise(hdr, net, 25.0 / 255 * 1000.0)
    np.testing.assert_allclose(out, denoise(image, net, 25 / 255) * 1000.0 + 50.0, rtol=1e-4, atol=1e-2)


def test_pixel_shuffle_down_sampling_denoises_each_sub_image(models):
    net, image = load_model(models["gray"]), _noisy((24, 32))
    out = denoise(image, net, 0.1, pd=2)
    np.testing.assert_array_equal(out[1::2, 0::2], denoise(np.ascontiguousarray(image[1::2, 0::2]), net, 0.1))


def test_alpha_into_jpeg_is_one_warning_line(run_cli, tmp_path, models):
    rgba = np.concatenate([_noisy((20, 24, 3)), np.full((20, 24, 1), 0.5, np.float32)], axis=2)
    from PIL import Image

    Image.fromarray((rgba * 255).astype(np.uint8), "RGBA").save(tmp_path / "a.png")
    code, _, err = run_cli("denoise", tmp_path / "a.png", "-o", tmp_path / "a.jpg", "--model", models["color"])
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "alpha" in lines[0]
    assert read_image(tmp_path / "a.jpg")[0].shape == (20, 24, 3)


def test_blind_default_says_what_it_chose_in_verbose_and_json(run_cli, tmp_path):
    import json

    from skimage import data, transform

    clean = transform.resize(data.astronaut() / 255, (192, 192, 3), anti_aliasing=True)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape), 0, 1)
    src = write_image(tmp_path / "a.png", noisy.astype(np.float32))
    code, out, err = run_cli("denoise", src, "-o", tmp_path / "o", "--json")
    assert code == 0, err
    record = json.loads(out.strip())  # stdout holds the JSON record alone
    assert record["source"] == str(src) and record["choice"]["noise"]["kind"] == "gaussian"
    assert record["choice"]["method"] == "fastunet.color" and 20 < record["choice"]["sigma"] < 30
    code, out, _ = run_cli("denoise", src, "-o", tmp_path / "p")
    assert "white Gaussian noise" in out  # the one-line reason beside the file
