"""``restorekit evaluate`` end to end, through the in-process CLI runner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_data


@pytest.fixture
def folders(tmp_path, gray_image) -> tuple[Path, Path]:
    """Two datasets: two gray images, and one gray image of another size."""
    from skimage import data

    from restorekit.io import write_image

    write_image(tmp_path / "setA" / "one.png", gray_image)
    write_image(tmp_path / "setA" / "two.png", data.camera()[200:240, 220:253])
    write_image(tmp_path / "setB" / "three.png", data.coins()[100:141, 150:195])
    return tmp_path / "setA", tmp_path / "setB"


def test_evaluate_end_to_end(run_cli, folders, tmp_path):
    set_a, _ = folders
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        "evaluate", "--method", "median,gaussian", "--data", set_a, "--noise", "gaussian:25,gaussian:15",
        "--protocol", "random", "--seed", "1", "--json", out / "r.json", "--csv", out / "r.csv",
        "--markdown", out / "r.md", "--figure", out / "fig.png", "--save-images", out / "images",
    )
    assert code == 0, stderr
    assert "median" in stdout and "gaussian:15" in stdout and "PSNR" in stdout
    records = json.loads((out / "r.json").read_text())
    assert [(r["method"], r["noise"]) for r in records] == [
        (m, n) for n in ("gaussian:25", "gaussian:15") for m in ("noisy", "median", "gaussian")
    ]
    for r in records:
        assert r["dataset"] == "setA" and r["images"] == 2 and r["protocol"] == "random" and r["seed"] == 1
    by = {(r["method"], r["noise"]): r["psnr"] for r in records}
    assert by[("median", "gaussian:25")] > by[("noisy", "gaussian:25")] + 3
    assert by[("noisy", "gaussian:15")] > by[("noisy", "gaussian:25")] + 3
    assert len(list(csv.DictReader((out / "r.csv").open()))) == 6
    assert (out / "r.md").read_text().count("\n") == 8
    assert (out / "fig.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "images" / "setA" / "gaussian_15" / "median").glob("*.png"))) == 2


def test_several_datasets_limit_and_blind(run_cli, folders, tmp_path):
    set_a, set_b = folders
    code, stdout, stderr = run_cli(
        "evaluate", "--method", "median", "--data", f"{set_a},{set_b}", "--noise", "gaussian:25",
        "--limit", "1", "--blind", "--json", tmp_path / "r.json",
    )
    assert code == 0, stderr
    records = json.loads((tmp_path / "r.json").read_text())
    assert [(r["dataset"], r["method"], r["images"]) for r in records] == [
        ("setA", "noisy", 1), ("setA", "median", 1), ("setB", "noisy", 1), ("setB", "median", 1),
    ]
    assert all(r["sigma"] == "blind" and r["protocol"] == "paper" for r in records)  # paper: Gaussian default
    assert "setB" in stdout


def test_non_gaussian_noise_defaults_to_random_protocol(run_cli, folders, tmp_path):
    set_a, _ = folders
    code, _, stderr = run_cli("evaluate", "--method", "median", "--data", set_a, "--noise", "saltpepper:0.05",
                              "--json", tmp_path / "r.json")
    assert code == 0, stderr
    records = json.loads((tmp_path / "r.json").read_text())
    assert records[1]["protocol"] == "random" and records[1]["psnr"] > records[0]["psnr"] + 5


def test_deblurring_methods_on_a_blur_spec(run_cli, folders, tmp_path):
    set_a, _ = folders
    code, stdout, stderr = run_cli("evaluate", "--method", "wiener,rl:10,median", "--data", set_a,
                                   "--noise", "blur:gaussian-1.6+gaussian:2.55", "--json", tmp_path / "r.json")
    assert code == 0, stderr
    psnr = {r["method"]: r["psnr"] for r in json.loads((tmp_path / "r.json").read_text())}
    assert psnr["wiener"] > psnr["noisy"] + 1 and psnr["rl:10"] > psnr["noisy"] + 1
    assert psnr["wiener"] > psnr["median"]  # deconvolving beats denoising a blurred image


@pytest.mark.parametrize(
    "args, message",
    [
        (("--method", "median", "--data", "{tmp}/missing", "--noise", "gaussian:25"), "missing"),
        (("--method", "median", "--data", "{data}", "--noise", "gausian:25"), "gausian"),
        (("--method", "median", "--data", "{data}", "--noise", "gaussian:x"), "gaussian:x"),
        (("--method", "nonesuch", "--data", "{data}", "--noise", "gaussian:25"), "nonesuch"),
        (("--model", "no/such/model.safetensors", "--data", "{data}", "--noise", "gaussian:25"), "no/such"),
        (("--method", "median", "--data", "{data}", "--noise", "poisson:30", "--protocol", "paper"), "paper protocol"),
        (("--data", "{data}", "--noise", "gaussian:25"), "--method"),
        (("--method", "median,median", "--data", "{data}", "--noise", "gaussian:25"), "twice"),
        (("--method", "wiener", "--data", "{data}", "--noise", "gaussian:25"), "needs a blur"),
    ],
)
def test_error_paths_give_one_line_and_exit_1(run_cli, folders, tmp_path, args, message):
    set_a, _ = folders
    args = [a.format(tmp=tmp_path, data=set_a) for a in args]
    code, stdout, stderr = run_cli("evaluate", *args, "--json", tmp_path / "r.json")
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "r.json").exists()  # checked before any work


def test_help(run_cli):
    code, stdout, _ = run_cli("evaluate", "--help")
    assert code == 0 and "--noise" in stdout and "--protocol" in stdout and "--figure" in stdout


def test_paper_protocol_on_set12_matches_a_hand_made_pipeline(run_cli, tmp_path):
    """The CLI's paper protocol, step by step as the papers' scripts do it (the published BM3D
    figure itself is checked in test_classical.py; here the wiring, with a cheap method)."""
    from skimage.metrics import peak_signal_noise_ratio
    from PIL import Image

    from restorekit.classical import get_method

    set12 = shared_data("test", "Set12")
    code, _, stderr = run_cli("evaluate", "--method", "wavelet", "--data", set12, "--limit", "2",
                              "--noise", "gaussian:25", "--protocol", "paper", "--json", tmp_path / "r.json")
    assert code == 0, stderr
    records = json.loads((tmp_path / "r.json").read_text())
    paths = sorted(p for p in set12.iterdir() if p.suffix == ".png")[:2]
    assert records[1]["names"] == [p.stem for p in paths]
    for path, noisy_psnr, method_psnr in zip(paths, records[0]["psnrs"], records[1]["psnrs"]):
        clean8 = np.asarray(Image.open(path).convert("L"))
        noisy = np.float32(clean8) / 255  # KAIR's uint2single, then img_L += np.random.normal(...)
        noisy += np.random.RandomState(0).normal(0, 25 / 255, clean8.shape)  # after np.random.seed(0)
        restored = get_method("wavelet")(noisy, 25 / 255)
        for image, score in ((noisy, noisy_psnr), (restored, method_psnr)):
            image8 = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
            assert score == pytest.approx(peak_signal_noise_ratio(clean8, image8, data_range=255), abs=1e-9)


@pytest.mark.parametrize("option", ["--json", "--csv", "--markdown", "--figure"])
def test_reports_never_overwrite_an_input_image(run_cli, folders, option):
    set_a, _ = folders
    victim = sorted(set_a.iterdir())[0]
    before = victim.read_bytes()
    code, _, stderr = run_cli("evaluate", "--method", "median", "--data", set_a, "--noise", "gaussian:25",
                              option, victim, "--overwrite")
    assert code == 1 and "is one of the inputs" in stderr and len(stderr.strip().splitlines()) == 1
    assert victim.read_bytes() == before


def test_reports_refuse_existing_files_and_each_other(run_cli, folders, tmp_path):
    set_a, _ = folders
    (tmp_path / "r.json").write_text("keep me")
    args = ("evaluate", "--method", "median", "--data", set_a, "--noise", "gaussian:25")
    code, _, stderr = run_cli(*args, "--json", tmp_path / "r.json")
    assert code == 1 and "--overwrite" in stderr and (tmp_path / "r.json").read_text() == "keep me"
    code, _, stderr = run_cli(*args, "--csv", tmp_path / "x.txt", "--markdown", tmp_path / "x.txt")
    assert code == 1 and "same file" in stderr
    code, _, stderr = run_cli(*args, "--save-images", set_a)
    assert code == 1 and "holds input images" in stderr


def test_pairs_score_real_noisy_images_against_their_references(run_cli, tmp_path, gray_image):
    import json

    import numpy as np

    from restorekit.io import write_image
    from restorekit.metrics import psnr, quantize8

    rng = np.random.default_rng(0)
    noisy = np.clip(gray_image + rng.normal(0, 0.05, gray_image.shape), 0, 1).astype(np.float32)
    write_image(tmp_path / "real" / "clean" / "a.png", gray_image)
    write_image(tmp_path / "real" / "noisy" / "a.png", noisy)
    code, _, err = run_cli("evaluate", "--method", "median", "--pairs", tmp_path / "real",
                           "--json", tmp_path / "r.json")
    assert code == 0, err
    records = json.loads((tmp_path / "r.json").read_text())
    first = records[0] if isinstance(records, list) else records["records"][0]
    assert first["method"] == "noisy" and first["protocol"] == "pairs" and first["sigma"] == "blind"
    expected = psnr(quantize8(gray_image), quantize8(noisy), data_range=255)
    assert abs(first["psnr"] - expected) < 1e-6  # the noisy file itself, not a synthetic degradation

    (tmp_path / "real" / "noisy" / "a.png").unlink()
    code, _, err = run_cli("evaluate", "--method", "median", "--pairs", tmp_path / "real")
    assert code == 1 and "no noisy image for a.png" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("evaluate", "--method", "median", "--pairs", tmp_path / "real", "--noise", "gaussian:25")
    assert code == 1 and "--pairs alone" in err


def test_ensemble_names_the_models_it_runs_and_leaves_classical_methods_alone(run_cli, folders, tmp_path):
    set_a, _ = folders
    code, stdout, stderr = run_cli(
        "evaluate", "--method", "median,auto", "--model", "fastunet.gray", "--data", set_a, "--noise", "gaussian:25",
        "--ensemble", "2", "--json", tmp_path / "r.json",
    )
    assert code == 0, stderr
    records = json.loads((tmp_path / "r.json").read_text())
    assert [r["method"] for r in records] == ["noisy", "median", "auto x2", "fastunet.gray x2"]
    by = {r["method"]: r["psnr"] for r in records}
    assert by["auto x2"] == pytest.approx(by["fastunet.gray x2"])  # sigma given: auto is the gray model
