"""scripts/ship_model.py measures a run and writes it as a shipped model (into a temp folder here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from conftest import load_script


def _ship(tmp_path, monkeypatch, *args) -> None:
    """Run scripts/ship_model.py with ``args``, writing into tmp_path's weights/ and curves/."""
    script = load_script("ship_model")
    monkeypatch.setattr(script, "WEIGHTS", tmp_path / "weights")
    monkeypatch.setattr(script, "CURVES", tmp_path / "curves")
    monkeypatch.setattr(sys, "argv", ["ship_model.py", *map(str, args)])
    script.main()


def test_ship_a_real_noise_run_with_pairs_and_a_self_calibrated_level(tmp_path, monkeypatch, color_image):
    from restorekit.io import write_image
    from restorekit.models import create_model, load_model
    from restorekit.models.weights import save_weights

    run = tmp_path / "run"
    save_weights(run / "best.safetensors", create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1),
                 {"blind_sigma": 0.1, "training": {"noise": "realmix"}})
    (run / "log.csv").write_text("step,patches\n1,16\n")
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        write_image(tmp_path / "pairs" / "clean" / name, color_image)
        write_image(tmp_path / "pairs" / "noisy" / name, np.clip(color_image + rng.normal(0, 0.03, color_image.shape), 0, 1))
    _ship(tmp_path, monkeypatch, run, "fastunet.test-real", "--pairs", tmp_path / "pairs",
          "--blind-level", "self-calibrated")
    meta = json.loads((tmp_path / "weights" / "fastunet.test-real.json").read_text())
    assert meta["blind_level"] == "self-calibrated" and "blind_sigma" not in meta
    assert set(meta["psnr_real"]) == {"pairs", "pairs noisy"} and meta["psnr_real"]["pairs noisy"] > 25
    assert "psnr" not in meta  # no Gaussian test set was given
    assert load_model(tmp_path / "weights" / "fastunet.test-real.safetensors").meta["blind_level"] == "self-calibrated"
    assert (tmp_path / "curves" / "fastunet.test-real.csv").read_text().startswith("step")


def _ship_a_tiny_run(tmp_path, monkeypatch, image, training: dict) -> dict:
    """Ship a tiny colour run with this training record (scored on one clean pair); its shipped record."""
    from restorekit.io import write_image
    from restorekit.models import create_model
    from restorekit.models.weights import save_weights

    run = tmp_path / "run"
    save_weights(run / "best.safetensors", create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1),
                 {"training": training})
    write_image(tmp_path / "pairs" / "clean" / "a.png", image)
    write_image(tmp_path / "pairs" / "noisy" / "a.png", image)
    _ship(tmp_path, monkeypatch, run, "fastunet.test", "--pairs", tmp_path / "pairs")
    return json.loads((tmp_path / "weights" / "fastunet.test.json").read_text())["training"]


def _shipped_colour_record() -> dict:
    from restorekit.models.weights import read_meta

    return read_meta(Path(__file__).parents[1] / "restorekit" / "weights" / "fastunet.color.json")["training"]


def test_a_run_started_from_a_shipped_model_keeps_that_models_record(tmp_path, monkeypatch, color_image):
    """Shipping under the parent's own name replaces it: its training record must travel along."""
    parent = _shipped_colour_record()
    training = {"noise": "realmix", "config": {"init_from": "fastunet.color"}}
    started = _ship_a_tiny_run(tmp_path, monkeypatch, color_image, training)["started_from"]
    assert started["name"] == "fastunet.color"
    assert started["patches_seen"] == parent["patches_seen"] and started["config"] == parent["config"]


def test_shipping_the_shipped_run_again_keeps_its_history_once(tmp_path, monkeypatch, color_image):
    """Re-shipping the run that made a shipped model (say, to store it --half) must not nest it in itself."""
    parent = _shipped_colour_record()
    assert parent["config"]["init_from"] == "fastunet.color"  # the shipped colour run trained on from its predecessor
    own = {k: v for k, v in parent.items() if k != "started_from"}
    assert _ship_a_tiny_run(tmp_path, monkeypatch, color_image, own)["started_from"] == parent["started_from"]


def test_half_ships_float16_weights_and_the_figures_are_of_them(tmp_path, monkeypatch, color_image):
    import torch
    from safetensors import safe_open

    from restorekit.evaluate import evaluate
    from restorekit.evaluate.benchmark import paired_images
    from restorekit.infer.network import NetworkRestorer
    from restorekit.io import write_image
    from restorekit.models import create_model, load_model
    from restorekit.models.weights import save_weights

    run = tmp_path / "run"
    save_weights(run / "best.safetensors", create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1),
                 {"blind_sigma": 0.1, "training": {"noise": "gaussian:0-75"}})
    rng = np.random.default_rng(1)
    write_image(tmp_path / "pairs" / "clean" / "a.png", color_image)
    write_image(tmp_path / "pairs" / "noisy" / "a.png", np.clip(color_image + rng.normal(0, 0.05, color_image.shape), 0, 1))
    _ship(tmp_path, monkeypatch, run, "fastunet.test", "--pairs", tmp_path / "pairs", "--half")
    shipped = tmp_path / "weights" / "fastunet.test.safetensors"
    with safe_open(str(shipped), framework="pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert meta["stored_dtype"] == "float16"
    clean, noisy = paired_images(tmp_path / "pairs")
    (_, record) = evaluate([NetworkRestorer(load_model(shipped), "x")], clean, "real", noisy_dir=noisy, dataset="pairs")
    assert round(record.psnr, 3) == meta["psnr_real"]["pairs"]  # measured on the stored weights


def test_last_ships_the_weights_average_where_the_run_kept_one(tmp_path, monkeypatch, color_image):
    import torch

    from restorekit.io import write_image
    from restorekit.models import load_model
    from restorekit.train.config import TrainConfig
    from restorekit.train.trainer import train

    for i in range(2):
        write_image(tmp_path / "train" / f"{i}.png", color_image)
    write_image(tmp_path / "pairs" / "clean" / "a.png", color_image)
    write_image(tmp_path / "pairs" / "noisy" / "a.png", color_image)
    run = tmp_path / "run"
    train(TrainConfig(arch="fastunet", arch_args={"widths": [8, 16, 32], "blocks": 1}, channels=3,
                      data=(str(tmp_path / "train"),), out=str(run), noise="gaussian:25", steps=3, batch_size=2,
                      patch_size=24, lr=1e-2, ema=0.5, save_every=1), progress=False)
    _ship(tmp_path, monkeypatch, run, "fastunet.test", "--pairs", tmp_path / "pairs", "--last")
    shipped = load_model(tmp_path / "weights" / "fastunet.test.safetensors").state_dict()
    last = torch.load(run / "last.pt", weights_only=True)
    assert all(torch.equal(v, last["ema"][k]) for k, v in shipped.items())
    assert any(not torch.equal(v, last["model"][k]) for k, v in shipped.items())
