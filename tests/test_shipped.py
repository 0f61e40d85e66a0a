"""The pretrained models that ship inside the package: present, loadable, honest, good."""

from __future__ import annotations

import json

import numpy as np
import pytest

from restorekit.infer import default_model, denoise
from restorekit.infer.network import LOW_LEVEL_MODELS
from restorekit.metrics import psnr
from restorekit.models import list_models, load_model, resolve_model_path
from restorekit.models.weights import read_meta

SHIPPED = list_models()


@pytest.mark.parametrize("channels", [1, 3])
def test_the_default_models_ship(channels):
    name = default_model(channels)
    assert name in SHIPPED
    assert load_model(name).in_channels == channels


@pytest.mark.parametrize("name", [n for n in SHIPPED if not n.endswith("-real")])
def test_metadata_records_the_recipe_and_the_measured_psnr(name):
    meta = read_meta(resolve_model_path(name))
    training = meta["training"]
    low_partners = {low for low, _ in LOW_LEVEL_MODELS.values()}
    assert training["noise"] == ("gaussian:0-30" if name in low_partners else "gaussian:0-75")  # as documented
    assert all("shared/data/train" in d for d in training["data"])  # never a test set
    for key in ("psnr", "psnr_blind"):
        (scores,) = meta[key].values()  # one test set: BSD68 or CBSD68
        assert set(scores) == {"15", "25", "50"}
        assert 24 < scores["50"] < scores["25"] < scores["15"] < 40
    assert resolve_model_path(name).stat().st_size < 8e6  # a few MB (the grown Gaussian ones in float16: 4-4.4 MB)


@pytest.mark.parametrize("name", [n for n in SHIPPED if n.endswith("-real")])
def test_the_real_noise_models_record_their_recipe_and_scores(name):
    meta = read_meta(resolve_model_path(name))
    assert meta["training"]["noise"] == "realmix" and meta["blind_level"] == "self-calibrated"
    assert all("shared/data/train" in d for d in meta["training"]["data"])  # never a test set
    assert meta["validation"]["data"].endswith("training images held out")
    if "psnr_real" in meta:  # colour: real camera noise with references
        assert meta["psnr_real"]["Nam25"] > meta["psnr_real"]["Nam25 noisy"] + 2
    else:  # gray: no gray real pairs here; white noise told its level, as a check of the model
        assert set(meta["psnr"]["BSD68"]) == {"15", "25", "50"}
    assert "blind_sigma" not in meta


def test_every_real_noise_model_is_the_one_blind_denoising_picks():
    from restorekit.infer.auto import REAL_MODELS

    assert sorted(REAL_MODELS.values()) == sorted(n for n in SHIPPED if n.endswith("-real"))


@pytest.fixture(scope="module")
def scenes() -> dict[int, np.ndarray]:
    """96x96 crops of natural images, gray and colour, float32 in [0, 1]."""
    from skimage import data

    return {1: data.camera()[180:276, 200:296].astype(np.float32) / 255,
            3: data.astronaut()[100:196, 180:276].astype(np.float32) / 255}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_denoises_given_and_blind(name, scenes):
    model = load_model(name)
    clean = scenes[model.in_channels]
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape).astype(np.float32)
    before = psnr(clean, np.clip(noisy, 0, 1), data_range=1)
    given = psnr(clean, np.clip(denoise(noisy, model, sigma=25 / 255), 0, 1), data_range=1)
    blind = psnr(clean, np.clip(denoise(noisy, model), 0, 1), data_range=1)
    assert given > before + 6
    assert blind > given - 0.5
    # The strength knob works: a much lower sigma leaves much more noise in.
    weak = psnr(clean, np.clip(denoise(noisy, model, sigma=2 / 255), 0, 1), data_range=1)
    assert weak < given - 2


def test_denoise_without_a_model_uses_the_default(gray_image):
    noisy = (gray_image + np.random.default_rng(1).normal(0, 0.1, gray_image.shape)).astype(np.float32)
    assert np.array_equal(denoise(noisy, sigma=0.1), denoise(noisy, default_model(1), sigma=0.1))


def test_models_command_lists_every_shipped_model(run_cli):
    code, stdout, stderr = run_cli("models")
    assert code == 0, stderr
    for name in SHIPPED:
        assert name in stdout
    rows = json.loads(run_cli("models", "--json")[1])
    assert {row["name"] for row in rows} == set(SHIPPED)
    gray = next(row for row in rows if row["name"] == default_model(1))
    meta = read_meta(resolve_model_path(gray["name"]))
    assert gray["σ=25"] == f"{meta['psnr']['BSD68']['25']:.2f}/{meta['psnr_blind']['BSD68']['25']:.2f}"


def test_models_command_says_which_model_runs_as_a_pair(run_cli):
    stdout = run_cli("models")[1]
    for name, (low, below) in LOW_LEVEL_MODELS.items():
        line = f"{name} (by name or as the default): images told a sigma below {below * 255:g} go to {low} instead"
        assert (line in stdout) == ({name, low} <= set(SHIPPED))


def test_models_command_shows_real_noise_scores_without_empty_rows(run_cli):
    stdout = run_cli("models")[1]
    meta = read_meta(resolve_model_path("fastunet.color-real"))
    score = f"{meta['psnr_real']['Nam25 noisy']:.2f} -> {meta['psnr_real']['Nam25']:.2f}"
    lines = [line for line in stdout.splitlines() if line.startswith("fastunet.color-real")]
    assert len(lines) == 1 and "Nam25 (real)" in lines[0] and score in lines[0]  # the column every row may hold
