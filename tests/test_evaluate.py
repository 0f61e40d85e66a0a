"""evaluate/: the benchmark loop, its reports and its figure, on a tiny folder of images."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from restorekit.errors import RestorekitError
from restorekit.evaluate import benchmark
from restorekit.evaluate.benchmark import NOISY, evaluate, given_sigma, make_degrader, resolve_method
from restorekit.evaluate.figure import comparison_figure, detail_crop
from restorekit.evaluate.report import (
    CSV_FIELDS,
    records_from_json,
    to_csv,
    to_json,
    to_markdown,
    to_table,
    write_report,
)

SIGMA25 = 25 / 255


class Recorder:
    """A method that returns its input unchanged and remembers what it was given."""

    def __init__(self, name: str, inplace: bool = False):
        self.name = name
        self.inplace = inplace
        self.seen: list[tuple[np.ndarray, float | None]] = []

    def __call__(self, image: np.ndarray, sigma: float | None) -> np.ndarray:
        self.seen.append((image.copy(), sigma))
        out = image.copy()
        if self.inplace:
            image[...] = 0.5  # a badly behaved method scribbling on its input
        return out


@pytest.fixture
def folder(tmp_path, gray_image, color_image) -> Path:
    """Three small images of odd sizes, gray and colour, as 8-bit PNGs."""
    from skimage import data

    from restorekit.io import write_image

    root = tmp_path / "tiny"
    write_image(root / "a_gray.png", gray_image)
    write_image(root / "b_color.png", color_image)
    write_image(root / "c_coins.png", data.coins()[100:141, 150:195])  # 41x45 uint8
    return root


@pytest.fixture
def images(folder) -> list[Path]:
    from restorekit.io import list_images

    return list_images([folder])


@pytest.fixture
def cheap() -> list:
    from restorekit.classical import get_method

    return [get_method("median"), get_method("gaussian")]


def test_records_fields_and_gains(images, cheap):
    records = evaluate(cheap, images, "gaussian:25", protocol="random", seed=0)
    assert [r.method for r in records] == [NOISY, "median", "gaussian"]
    noisy = records[0]
    for r in records:
        assert (r.dataset, r.noise, r.protocol, r.images, r.sigma, r.seed) == ("tiny", "gaussian:25", "random", 3, "given", 0)
        assert r.names == ["a_gray", "b_color", "c_coins"]
        assert len(r.psnrs) == len(r.ssims) == 3
        assert r.psnr == pytest.approx(np.mean(r.psnrs))  # mean of per-image PSNRs
        assert r.ssim == pytest.approx(np.mean(r.ssims))
    assert 19 < noisy.psnr < 22  # sigma 25 on 8-bit images: about 20.2 dB before clipping gains
    assert noisy.seconds is None and noisy.megapixels_per_s is None and noisy.times == []
    for r in records[1:]:
        assert r.psnr > noisy.psnr + 3, r.method
        assert r.ssim > noisy.ssim
        assert len(r.times) == 3 and r.seconds == pytest.approx(np.mean(r.times))
        pixels = 37 * 31 * 2 + 41 * 45
        assert r.megapixels_per_s == pytest.approx(pixels / 1e6 / sum(r.times))


def test_methods_see_the_same_noisy_image_and_the_sigma(images):
    first, second = Recorder("first", inplace=True), Recorder("second")
    records = evaluate([first, second], images, "gaussian:25", protocol="random", seed=3)
    for (a, sigma_a), (b, sigma_b) in zip(first.seen, second.seen):
        np.testing.assert_array_equal(a, b)  # in-place scribbles of `first` did not leak
        assert sigma_a == sigma_b == pytest.approx(SIGMA25)
    # The identity scores exactly what the noisy input scores.
    assert records[1].psnrs == records[0].psnrs == records[2].psnrs

    blind = Recorder("blind")
    evaluate([blind], images, "gaussian:25", protocol="random", sigma="blind")
    assert all(sigma is None for _, sigma in blind.seen)


def test_paper_protocol_is_the_published_noise(images):
    from restorekit.io import read_image

    seen = Recorder("identity")
    records = evaluate([seen], images, "gaussian:25", protocol="paper")
    assert records[0].protocol == "paper" and records[0].seed is None
    clean, _ = read_image(images[0])
    expected = clean + np.random.RandomState(0).normal(0, SIGMA25, clean.shape)  # not clipped
    np.testing.assert_allclose(seen.seen[0][0], expected, atol=1e-6)
    assert seen.seen[0][0].min() < 0  # unclipped: the method sees negative values


def test_random_protocol_seeds_each_file_by_its_name(images):
    a = evaluate([Recorder("m")], images, "gaussian:25", protocol="random", seed=7)
    again = evaluate([Recorder("m")], images, "gaussian:25", protocol="random", seed=7)
    assert a[0].psnrs == again[0].psnrs
    # A file's noise depends on (seed, its name), not on its position in the list ...
    shifted = evaluate([Recorder("m")], images[1:], "gaussian:25", protocol="random", seed=7)
    assert shifted[0].psnrs == a[0].psnrs[1:]
    # ... and seed + 1 is unrelated to the next file (the old seed + index collided).
    other = evaluate([Recorder("m")], images[1:], "gaussian:25", protocol="random", seed=8)
    assert all(x != y for x, y in zip(other[0].psnrs, a[0].psnrs))


def test_random_protocol_scores_what_degrade_writes(images, run_cli, tmp_path):
    # `restorekit degrade --seed S` and `evaluate --protocol random --seed S` make the same
    # noisy images from the same files (one seed derivation, restorekit.seeds).
    from restorekit.io import read_image
    from restorekit.metrics import quantize8

    seen = Recorder("m")
    evaluate([seen], images[:1], "gaussian:25", protocol="random", seed=3)
    assert run_cli("degrade", images[0], "-o", tmp_path / "n.png", "--noise", "gaussian:25", "--seed", "3")[0] == 0
    written = read_image(tmp_path / "n.png")[0]  # 8-bit, as the input
    np.testing.assert_array_equal(quantize8(written), quantize8(seen.seen[0][0]))
    assert np.abs(seen.seen[0][0] - read_image(images[0])[0]).std() > 0.05  # noise was added


def test_16bit_input_is_scored_at_8_bits(tmp_path, gray_image):
    from restorekit.io import write_image
    from restorekit.metrics import quantize8

    exact = quantize8(gray_image) / 255.0  # 8-bit values, exactly representable at 16 bits
    write_image(tmp_path / "eight" / "x.png", exact)
    write_image(tmp_path / "sixteen" / "x.png", exact, dtype=np.uint16)
    eight = evaluate([Recorder("m")], [tmp_path / "eight" / "x.png"], "gaussian:15")
    sixteen = evaluate([Recorder("m")], [tmp_path / "sixteen" / "x.png"], "gaussian:15")
    assert sixteen[0].psnrs == eight[0].psnrs
    assert sixteen[0].ssims == eight[0].ssims


def test_crop_changes_scores_and_is_recorded(images, cheap):
    full = evaluate(cheap[:1], images, "gaussian:25", protocol="random")
    cropped = evaluate(cheap[:1], images, "gaussian:25", protocol="random", crop=4)
    assert cropped[1].crop == 4 and cropped[1].psnrs != full[1].psnrs


def test_save_images_writes_the_scored_pixels(tmp_path, images, cheap):
    from restorekit.io import read_image
    from restorekit.metrics import psnr, quantize8

    records = evaluate(cheap[:1], images, "gaussian:25", protocol="random", save_images=tmp_path / "out")
    base = tmp_path / "out" / "tiny" / "gaussian_25"
    assert sorted(p.name for p in base.iterdir()) == ["median", "noisy"]
    restored, _ = read_image(base / "median" / "b_color.png")
    clean, _ = read_image(images[1])
    assert psnr(quantize8(clean), quantize8(restored), data_range=255) == pytest.approx(records[1].psnrs[1])


def test_progress_is_called_per_image_and_method(images, cheap):
    calls = []
    evaluate(cheap, images, "gaussian:25", protocol="random", progress=lambda *a: calls.append(a))
    assert len(calls) == len(images) * len(cheap)


def test_bad_arguments_fail_clearly(images, cheap):
    with pytest.raises(RestorekitError, match="paper protocol"):
        evaluate(cheap, images, "poisson:30", protocol="paper")
    with pytest.raises(RestorekitError, match="protocol"):
        evaluate(cheap, images, "gaussian:25", protocol="nope")
    with pytest.raises(RestorekitError, match="distinct"):
        evaluate([Recorder("m"), Recorder("m")], images, "gaussian:25")
    with pytest.raises(RestorekitError, match="shape"):
        evaluate([lambda x, s: x[1:]], images, "gaussian:25")
    with pytest.raises(RestorekitError):
        evaluate(cheap, images, "gaussian:abc")


def test_given_sigma():
    assert given_sigma("gaussian:25") == pytest.approx(SIGMA25)
    assert given_sigma("blur:gaussian-1.6+gaussian:2.55") == pytest.approx(2.55 / 255)
    assert given_sigma("gaussian:0-55") is None  # a range has no single level
    assert given_sigma("poisson:30+gaussian:5") is None
    assert given_sigma("saltpepper:0.1") is None


def test_make_degrader_checks_the_protocol_up_front():
    with pytest.raises(RestorekitError, match="random"):
        make_degrader("gaussian:0-55", "paper")
    assert benchmark.default_protocol("gaussian:25") == "paper"
    assert benchmark.default_protocol("poisson:30") == "random"


def test_resolve_method():
    median = resolve_method("median")
    assert median.name == "median"
    with pytest.raises(RestorekitError, match="unknown method 'nonesuch'"):
        resolve_method("nonesuch")
    with pytest.raises(RestorekitError, match="always reported"):
        resolve_method(NOISY)
    with pytest.raises(RestorekitError):
        resolve_method("model:does/not/exist.safetensors")


def test_deblurring_methods_are_given_the_specs_kernel(images):
    # wiener and rl need the kernel that only the spec knows: evaluate hands it over, and
    # both must then beat the blurred input (a wrong or missing kernel would not).
    methods = [resolve_method("wiener"), resolve_method("rl:20")]
    records = evaluate(methods, images, "blur:gaussian-1.6+gaussian:2.55", protocol="paper")
    by_name = {r.method: r for r in records}
    assert by_name["wiener"].psnr > by_name[NOISY].psnr + 1
    assert by_name["rl:20"].psnr > by_name[NOISY].psnr + 1
    with pytest.raises(RestorekitError, match="needs a blur"):
        evaluate([resolve_method("wiener")], images, "gaussian:25", protocol="paper")


def test_model_from_a_saved_run_is_evaluated_beside_classical(tmp_path, images):
    from restorekit.models import create_model
    from restorekit.models.weights import save_weights

    gray = [p for p in images if "color" not in p.name]
    save_weights(tmp_path / "run" / "best.safetensors", create_model("dncnn", channels=1, depth=5, features=16))
    method = resolve_method(f"model:{tmp_path / 'run'}")
    assert method.name == "run"
    records = evaluate([method], gray, "gaussian:25", protocol="random")
    assert records[1].method == "run" and records[1].images == 2 and np.isfinite(records[1].psnr)


# --------------------------------------------------------------------------- reports


@pytest.fixture
def records(images, cheap):
    return evaluate(cheap, images, "gaussian:25", protocol="random", seed=0)


def test_json_has_the_documented_fields_and_round_trips(records, tmp_path):
    path = write_report(tmp_path / "reports" / "r.json", records)
    data = json.loads(path.read_text())
    assert isinstance(data, list) and len(data) == 3
    for item in data:
        assert {"method", "dataset", "noise", "images", "psnr", "ssim", "seconds"} <= set(item)
    assert data[1]["psnrs"] == records[1].psnrs
    assert data[0]["gain"] is None and data[1]["gain"] == pytest.approx(records[1].psnr - records[0].psnr)
    back = records_from_json(path.read_text())
    assert [(r.method, r.psnr, r.names) for r in back] == [(r.method, r.psnr, r.names) for r in records]
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temp file left behind


def test_csv_parses(records):
    rows = list(csv.DictReader(io.StringIO(to_csv(records))))
    assert len(rows) == 3 and tuple(rows[0]) == CSV_FIELDS
    assert [r["method"] for r in rows] == [NOISY, "median", "gaussian"]
    assert float(rows[1]["psnr"]) == pytest.approx(records[1].psnr)
    assert rows[0]["seconds"] == ""  # undefined for the noisy input, not "None"


def test_markdown_table(records):
    lines = to_markdown(records).strip().splitlines()
    assert len(lines) == 2 + len(records)
    assert lines[0].startswith("| method |") and "PSNR" in lines[0]
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert lines[2].split("|")[1].strip() == NOISY
    assert f"{records[2].psnr:.2f}" in lines[4]


def test_rich_table_and_unknown_format(records, tmp_path):
    from rich.console import Console

    console = Console(record=True, width=150)
    console.print(to_table(records))
    text = console.export_text()
    assert "median" in text and "PSNR" in text and "MP/s" in text
    with pytest.raises(RestorekitError, match="format"):
        write_report(tmp_path / "r.txt", records)


def test_figure_is_a_png(records, tmp_path):
    from PIL import Image

    path = comparison_figure(records, tmp_path / "figs" / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        assert im.width > im.height > 50  # one row: clean, noisy, two methods
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]
    back = records_from_json(to_json(records))  # no example pictures kept
    with pytest.raises(RestorekitError, match="example"):
        comparison_figure(back, tmp_path / "none.png")


def test_detail_crop_finds_the_texture():
    image = np.zeros((64, 96), np.uint8)
    image[:, 64:] = np.random.default_rng(0).integers(0, 255, (64, 32))  # texture on the right
    ys, xs = detail_crop(image, 32)
    assert xs.start >= 56 and xs.stop - xs.start == 32 and ys.stop - ys.start == 32
    ys, xs = detail_crop(image, 200)  # larger than the image: the whole image
    assert (ys, xs) == (slice(0, 64), slice(0, 96))
