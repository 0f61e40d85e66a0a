"""Noise identification: each kind on a clear case, its level, the spec, errors and the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from restorekit.degradations import degrade, parse_spec
from restorekit.errors import RestorekitError
from restorekit.identify import KINDS, NoiseReport, identify_noise


def as_file(image: np.ndarray) -> np.ndarray:
    """What a file holds: clipped and rounded to 8 bits."""
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8).astype(np.float32) / 255


@pytest.fixture(scope="module")
def gray() -> np.ndarray:
    from skimage import data

    return data.camera()[96:352, 128:384].astype(np.float32) / 255  # 256x256, sky and coat


@pytest.fixture(scope="module")
def colour() -> np.ndarray:
    from skimage import data

    return data.astronaut()[:256, 128:384].astype(np.float32) / 255


@pytest.fixture(scope="module")
def ramp() -> np.ndarray:
    """A smooth 200x200 gray ramp from 0.05 to 0.95: every intensity, no texture."""
    return np.tile(np.linspace(0.05, 0.95, 200, dtype=np.float32), (200, 1))


def rms(noisy: np.ndarray, clean: np.ndarray) -> float:
    return float(np.sqrt(np.mean((noisy - clean) ** 2)) * 255)


def identify(clean: np.ndarray, spec: str, seed: int = 0) -> tuple[NoiseReport, np.ndarray]:
    noisy = as_file(degrade(clean, spec, seed=seed))
    return identify_noise(noisy), noisy


@pytest.mark.parametrize("fixture", ["gray", "colour"])
def test_a_clean_image_has_no_noise(fixture, request):
    report = identify_noise(as_file(request.getfixturevalue(fixture)))
    assert (report.kind, report.level, report.spec) == ("none", 0.0, "none")


@pytest.mark.parametrize("fixture", ["gray", "colour"])
@pytest.mark.parametrize("sigma", [10, 25])
def test_gaussian_kind_and_sigma(fixture, sigma, request):
    report, _ = identify(request.getfixturevalue(fixture), f"gaussian:{sigma}")
    assert report.kind == "gaussian"
    assert abs(report.level / sigma - 1) < 0.15
    assert report.spec == f"gaussian:{report.level:g}"


def test_unclipped_float_noise_is_gaussian_too(gray):
    report = identify_noise(degrade(gray, "gaussian:25", seed=1))  # floats outside [0, 1]
    assert report.kind == "gaussian" and abs(report.level / 25 - 1) < 0.15


def test_noise_that_was_never_clipped_is_not_corrected_for_clipping(ramp):
    # The published tables' noise is not clipped: read as if it were, sigma 50 came out 5%
    # high (the dark and bright bins look too noisy for clipped noise), and blind denoising
    # of BSD68 at sigma 50 lost 0.37 dB to it.
    noisy = degrade(ramp, "gaussian:50", seed=3)
    assert noisy.min() < 0 and noisy.max() > 1
    report = identify_noise(noisy)
    assert report.kind == "gaussian" and abs(report.level - rms(noisy, ramp)) < 0.02 * 50
    clipped = identify_noise(np.clip(noisy, 0, 1))  # a file: the clipping model applies
    assert clipped.kind == "gaussian" and abs(clipped.level / 50 - 1) < 0.05


def test_poisson_gaussian_level_is_the_rms(ramp):
    report, noisy = identify(ramp, "poisson:30+gaussian:5")
    assert report.kind == "poisson-gaussian"
    assert abs(report.level / rms(noisy, ramp) - 1) < 0.15
    assert abs(report.details["peak"] / 30 - 1) < 0.3
    assert report.spec.startswith("poisson:")


@pytest.mark.parametrize("fixture", ["gray", "colour"])
def test_salt_and_pepper_amount(fixture, request):
    report, _ = identify(request.getfixturevalue(fixture), "saltpepper:0.1")
    assert report.kind == "saltpepper" and abs(report.level / 0.1 - 1) < 0.15
    assert report.spec == f"saltpepper:{report.level:g}"


def test_speckle_sigma(ramp):
    report, _ = identify(ramp, "speckle:0.2")
    assert report.kind == "speckle" and abs(report.level / 0.2 - 1) < 0.15


def test_colour_camera_noise_by_its_demosaicking_traces(colour):
    report, noisy = identify(colour, "camera:0.01")
    assert report.kind == "camera"
    assert abs(report.level / rms(noisy, colour) - 1) < 0.15
    assert report.details["cfa_contrast"] > 1.1


@pytest.mark.parametrize("name", ["coffee", "immunohistochemistry"])
def test_weak_camera_noise_behind_a_fine_jpeg_is_still_camera(name):
    """A phone's photo: weak shot noise, then a quality-95 JPEG that erases most of the
    demosaicking traces (contrast about 1.06 here; clean photos stay below 1.03)."""
    from skimage import data

    clean = getattr(data, name)().astype(np.float32) / 255
    assert identify_noise(as_file(clean)).kind == "none"
    report, _ = identify(clean, "camera:0.0003+jpeg:95")
    assert report.kind == "camera" and 1.04 < report.details["cfa_contrast"] < 1.07


def test_gray_camera_noise_by_its_tone_curve(ramp):
    report, noisy = identify(ramp, "camera:0.01")
    assert report.kind == "camera"
    assert abs(report.level / rms(noisy, ramp) - 1) < 0.15
    assert report.details["skewness"] < 0  # the concave gamma


@pytest.mark.parametrize("fixture", ["gray", "colour"])
@pytest.mark.parametrize("quality", [30, 75])
def test_jpeg_quality_is_read_back(fixture, quality, request):
    report, _ = identify(request.getfixturevalue(fixture), f"jpeg:{quality}")
    assert (report.kind, report.level, report.spec) == ("jpeg", quality, f"jpeg:{quality}")


@pytest.mark.parametrize("spec", ["gaussian:25", "saltpepper:0.1", "jpeg:30", "camera:0.01", "speckle:0.2",
                                  "poisson:30+gaussian:5"])
def test_the_spec_parses_and_reproduces_the_kind(spec, ramp, colour):
    clean = colour if spec.startswith(("camera", "jpeg", "saltpepper")) else ramp
    report, _ = identify(clean, spec)
    assert report.kind in KINDS and report.kind != "none"
    again, _ = identify(clean, parse_spec(report.spec).spec, seed=7)
    assert again.kind == report.kind


def test_report_is_frozen_and_serialisable(gray):
    report, _ = identify(gray, "gaussian:25")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.kind = "none"
    record = json.loads(json.dumps(report.as_dict()))
    assert record["kind"] == "gaussian" and set(record) == {"kind", "level", "spec", "details"}


def test_same_image_same_report(colour):
    noisy = as_file(degrade(colour, "camera+jpeg:60-95", seed=3))
    assert identify_noise(noisy) == identify_noise(noisy.copy())


@pytest.mark.parametrize(
    "image,message",
    [(np.zeros((20, 40), np.float32), "too small"), (np.zeros((64, 64, 4), np.float32), "HxW or HxWx3"),
     (np.full((64, 64), np.nan, np.float32), "NaN")],
)
def test_bad_images_are_one_line_errors(image, message):
    with pytest.raises(RestorekitError, match=message) as exc:
        identify_noise(image)
    assert "\n" not in str(exc.value)


# --- the command ----------------------------------------------------------------------


@pytest.fixture
def files(tmp_path, gray, colour):
    from PIL import Image

    paths = {}
    for name, clean, spec in [("g25.png", gray, "gaussian:25"), ("sp.png", colour, "saltpepper:0.1")]:
        u8 = (as_file(degrade(clean, spec, seed=0)) * 255).round().astype(np.uint8)
        Image.fromarray(u8).save(tmp_path / name)
        paths[name] = tmp_path / name
    (tmp_path / "broken.png").write_bytes(b"not an image")
    paths["broken.png"] = tmp_path / "broken.png"
    return paths


def test_cli_table(run_cli, files):
    code, out, err = run_cli("identify", files["g25.png"], files["sp.png"])
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["file", "kind", "level", "spec"]
    assert "g25.png" in lines[1] and "gaussian" in lines[1]
    assert "sp.png" in lines[2] and "saltpepper" in lines[2]


def test_cli_json(run_cli, files):
    code, out, _ = run_cli("identify", "--json", files["g25.png"])
    (record,) = json.loads(out)
    assert code == 0 and record["kind"] == "gaussian" and record["file"].endswith("g25.png")
    assert abs(record["level"] / 25 - 1) < 0.15 and parse_spec(record["spec"])


def test_cli_bad_file_is_one_line_and_the_rest_still_run(run_cli, files, tmp_path):
    code, out, err = run_cli("identify", files["broken.png"], tmp_path / "missing.png", files["g25.png"])
    assert code == 1
    assert len(err.strip().splitlines()) == 2 and "broken.png" in err and "missing.png" in err
    assert "g25.png" in out and "gaussian" in out
