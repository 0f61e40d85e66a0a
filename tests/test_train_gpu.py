"""The GPU recipe (scripts/train_gpu.py) runs end to end on the CPU with a tiny step count,
so that it works the first time a GPU machine is lent: sizing, training, the record, resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_script
from PIL import Image


def _data(root: Path) -> Path:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:48, :40]
    for folder, count, mode in (("Train400", 14, "L"), ("CBSD432", 14, "RGB")):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            base = 0.5 + 0.3 * np.sin(xx / (3 + i)) * np.cos(yy / 5)
            img = np.stack([base] * 3, -1) if mode == "RGB" else base
            img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)
            Image.fromarray((img * 255).astype(np.uint8), mode).save(root / folder / f"{i:03d}.png")
    return root


def test_recipe_smoke_on_cpu_trains_records_and_resumes(tmp_path, monkeypatch):
    script = load_script("train_gpu")
    data, out = _data(tmp_path / "data"), tmp_path / "gpu"
    args = ["--data", str(data), "--out", str(out), "--device", "cpu", "--smoke", "--minutes", "0.1"]
    monkeypatch.setattr(script, "plan", _small(script.plan))
    assert script.main(args) == 0
    record = json.loads((out / "recipe.json").read_text())
    assert set(record) == {"fastunet.gray", "fastunet.gray-low", "fastunet.color", "fastunet.gray-real",
                           "fastunet.color-real"}
    for name in record:
        channels = 1 if ".gray" in name else 3
        assert record[name]["steps"] == 4 and record[name]["seconds_per_step"] > 0
        state = torch.load(out / name / "last.pt", weights_only=True)
        assert state["step"] == 4 and state["config"]["holdout"] > 0 and not state["config"]["val"]
        assert state["config"]["schedule"] == "wsd" and (out / name / "stable.pt").exists()  # extendable
        assert (out / name / "best.safetensors").exists()
        from restorekit.models import load_model

        model = load_model(out / name)
        assert model.in_channels == channels and model.arch_args["widths"] == [8, 16, 32]
    for built_on_gray in ("fastunet.gray-real", "fastunet.gray-low"):
        assert json.loads((out / built_on_gray / "config.json").read_text())["init_from"] == str(out / "fastunet.gray")
    before = (out / "fastunet.gray" / "last.pt").read_bytes()
    assert script.main(args) == 0  # finished runs are left as they are
    assert (out / "fastunet.gray" / "last.pt").read_bytes() == before


def _small(plan):
    """The shipped recipes with a tiny network and few held-out images (test data is small);
    the ones built on another model start from this call's tiny run of it."""

    def small(name, args, data):
        cfg = plan(name, args, data)
        if cfg.init_from:
            assert cfg.init_from == str(Path(args.out) / cfg.init_from.split("/")[-1]) and cfg.arch_args == {}
            return cfg.replace(holdout=2)
        return cfg.replace(arch_args={"widths": [8, 16, 32], "blocks": 1}, holdout=2)

    return small


def test_recipe_trains_the_shipped_architecture_and_builds_on_the_shipped_model_when_alone(tmp_path):
    from argparse import Namespace

    from restorekit.models import load_model

    script = load_script("train_gpu")
    args = Namespace(out=str(tmp_path), device="cpu", batch_size=2, patch_size=32, lr_scale=1.0, warmup=1,
                     val_every=2, save_every=2, from_shipped=False, ema=None)
    shipped = {k: v for k, v in load_model("fastunet.color").arch_args.items() if k != "channels"}
    assert script.plan("fastunet.color", args, tmp_path).arch_args == shipped
    low = script.plan("fastunet.gray-low", args, tmp_path)  # built on the gray model (shipped: none trained here)
    assert low.init_from == "fastunet.gray" and low.noise == "gaussian:0-30"
    real = script.plan("fastunet.color-real", args, tmp_path)  # no fastunet.color run in tmp_path
    assert real.init_from == "fastunet.color" and real.arch_args == {}


def test_from_shipped_goes_on_from_the_shipped_weights_with_the_last_stage_recipe(tmp_path, monkeypatch):
    """--from-shipped: the Gaussian models start from their shipped weights (same architecture,
    the psnr loss and large patches of their last stage), the real-noise ones as before; a
    tiny run starts exactly where the shipped model is."""
    from argparse import Namespace

    from restorekit.models import load_model

    script = load_script("train_gpu")
    args = Namespace(out=str(tmp_path / "gpu"), device="cpu", batch_size=2, patch_size=None, lr_scale=1.0,
                     warmup=1, val_every=2, save_every=2, from_shipped=True, ema=None)
    gray = script.plan("fastunet.gray", args, tmp_path)
    assert gray.init_from == "fastunet.gray" and gray.arch_args == {}
    assert gray.loss == "psnr" and gray.patch_size == 176 and gray.holdout == 8
    assert gray.ema == script.EMA_GOING_ON > 0  # the average keeps the shipped level at the peak rate
    low = script.plan("fastunet.gray-low", args, tmp_path)  # the partner goes on from itself, over its range
    assert low.init_from == "fastunet.gray-low" and low.noise == "gaussian:0-30" and low.ema == script.EMA_GOING_ON
    real = script.plan("fastunet.color-real", args, tmp_path)
    assert real.init_from == "fastunet.color" and real.ema == 0  # built on another run: its config's
    args.ema = 0.0
    assert script.plan("fastunet.gray", args, tmp_path).ema == 0  # --ema 0 turns it off
    args.from_shipped, args.ema = False, None
    scratch = script.plan("fastunet.gray", args, tmp_path)
    assert scratch.patch_size == script.SCRATCH_PATCH and scratch.ema == 0
    with pytest.raises(SystemExit):  # one line from argparse, before any training
        script.main(["--out", str(tmp_path / "bad"), "--device", "cpu", "--ema", "1.5"])
    assert not (tmp_path / "bad").exists()

    data, out = _data(tmp_path / "data"), tmp_path / "gpu"
    plan = script.plan
    monkeypatch.setattr(script, "plan", lambda name, a, d: plan(name, a, d).replace(holdout=2))
    assert script.main(["--data", str(data), "--out", str(out), "--device", "cpu", "--smoke", "--minutes", "0.1",
                        "--models", "fastunet.gray", "--from-shipped", "--lr-scale", "1e-6"]) == 0
    trained, shipped = load_model(out / "fastunet.gray"), load_model("fastunet.gray")
    assert trained.arch_args == shipped.arch_args
    # a rate of 1e-10: four steps leave the weights where they started, the shipped ones
    pairs = zip(trained.state_dict().values(), shipped.state_dict().values(), strict=True)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)
