"""``restorekit degrade``: writes seeded, format-preserving outputs; errors are one line, exit 1."""

from __future__ import annotations

import numpy as np
import pytest

from restorekit.degradations import paper_degrade
from restorekit.io import ImageInfo, from_float32, read_image, write_image


@pytest.fixture
def inputs(tmp_path, gray_image, color_image):
    """in/: the same gray image twice (a.png, b.png), and a 16-bit RGBA TIFF."""
    folder = tmp_path / "in"
    write_image(folder / "a.png", gray_image)
    write_image(folder / "b.png", gray_image)
    alpha = np.arange(37 * 31, dtype=np.uint16).reshape(37, 31) * 50
    write_image(folder / "c.tif", color_image, ImageInfo(np.dtype(np.uint16), "tiff", alpha))
    return folder


def test_writes_each_file_keeping_its_kind(run_cli, inputs, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("degrade", inputs, "-o", out, "--noise", "gaussian:25", "--seed", "1")
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.tif"]
    assert "degraded 3 images" in stdout
    a, info_a = read_image(out / "a.png")
    b, _ = read_image(out / "b.png")
    clean, _ = read_image(inputs / "a.png")
    assert a.shape == clean.shape and info_a.dtype == np.uint8
    assert not np.array_equal(a, b)  # same clean image, different noise per file
    noise_std = (a - clean).std()
    assert 0.07 < noise_std < 0.11  # sigma 25/255 = 0.098, a little less after clipping
    c, info_c = read_image(out / "c.tif")
    assert c.shape == (37, 31, 3) and info_c.dtype == np.uint16
    np.testing.assert_array_equal(info_c.alpha, read_image(inputs / "c.tif")[1].alpha)


def test_same_seed_same_files(run_cli, inputs, tmp_path):
    for name, seed in [("x", "7"), ("y", "7"), ("z", "8")]:
        code, _, _ = run_cli("degrade", inputs / "a.png", "-o", tmp_path / name, "--noise", "poisson:30", "--seed", seed)
        assert code == 0
    x, y, z = (read_image(tmp_path / n / "a.png")[0] for n in "xyz")
    np.testing.assert_array_equal(x, y)
    assert not np.array_equal(x, z)


def test_paper_protocol(run_cli, inputs, tmp_path, gray_image):
    args = ("degrade", inputs / "a.png", "-o", tmp_path / "p", "--noise", "gaussian:15", "--protocol", "paper")
    code, _, stderr = run_cli(*args)
    assert code == 0, stderr
    clean, _ = read_image(inputs / "a.png")
    expected = from_float32(paper_degrade(clean, "gaussian:15"), np.uint8)
    np.testing.assert_array_equal(from_float32(read_image(tmp_path / "p" / "a.png")[0], np.uint8), expected)


def test_refuses_to_overwrite(run_cli, inputs, tmp_path):
    out = tmp_path / "out"
    assert run_cli("degrade", inputs / "a.png", "-o", out, "--noise", "gaussian:25")[0] == 0
    before = (out / "a.png").read_bytes()
    code, _, stderr = run_cli("degrade", inputs / "a.png", "-o", out, "--noise", "gaussian:50")
    assert code == 1 and stderr.startswith("error:") and "--overwrite" in stderr
    assert (out / "a.png").read_bytes() == before
    code, _, _ = run_cli("degrade", inputs / "a.png", "-o", out, "--noise", "gaussian:50", "--overwrite")
    assert code == 0 and (out / "a.png").read_bytes() != before


def test_never_writes_over_its_inputs_unasked(run_cli, inputs):
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    code, _, stderr = run_cli("degrade", inputs, "-o", inputs, "--noise", "gaussian:25")
    assert code == 1 and "is the input" in stderr
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before  # nothing written, not even a.png


def test_a_single_input_may_go_to_a_file_name(run_cli, inputs, tmp_path):
    code, _, stderr = run_cli("degrade", inputs / "a.png", "-o", tmp_path / "noisy.png", "--noise", "gaussian:25")
    assert code == 0, stderr
    assert read_image(tmp_path / "noisy.png")[0].shape == read_image(inputs / "a.png")[0].shape
    code, _, stderr = run_cli("degrade", inputs, "-o", tmp_path / "many.png", "--noise", "gaussian:25")
    assert code == 1 and "names a file" in stderr


def _one_error_line(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr


@pytest.mark.parametrize("spec", ["gausian:25", "gaussian:abc", "blur:missing.npz#k1", "poisson:0"])
def test_bad_spec(run_cli, inputs, tmp_path, spec):
    code, _, stderr = run_cli("degrade", inputs, "-o", tmp_path / "out", "--noise", spec)
    assert code == 1
    _one_error_line(stderr)
    assert not (tmp_path / "out").exists()


def test_paper_protocol_needs_gaussian(run_cli, inputs, tmp_path):
    code, _, stderr = run_cli("degrade", inputs, "-o", tmp_path / "out", "--noise", "poisson:30", "--protocol", "paper")
    assert code == 1
    _one_error_line(stderr)


def test_missing_and_corrupt_files(run_cli, tmp_path):
    code, _, stderr = run_cli("degrade", tmp_path / "nope.png", "-o", tmp_path / "out", "--noise", "gaussian:25")
    assert code == 1
    _one_error_line(stderr)
    assert "nope.png" in stderr
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code, _, stderr = run_cli("degrade", bad, "-o", tmp_path / "out", "--noise", "gaussian:25")
    assert code == 1
    _one_error_line(stderr)
    assert "bad.png" in stderr
