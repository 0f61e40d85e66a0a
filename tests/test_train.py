"""Training: data determinism, the loop learns, kill-and-resume is exact, DDP runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restorekit.data import ImageFolder, dihedral, make_batch, random_patches, undo_dihedral
from restorekit.train.seeding import LEGACY, SeedScheme
from restorekit.errors import RestorekitError
from restorekit.train.config import TrainConfig


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """Six 48x40 8-bit gray images with smooth structure (a learnable signal)."""
    from skimage import data, transform

    base = data.camera().astype(np.float32) / 255.0
    folder = tmp_path / "clean"
    folder.mkdir()
    for i in range(6):
        crop = base[i * 60 : i * 60 + 192, 100 : 100 + 160]
        small = transform.resize(crop, (48, 40), anti_aliasing=True)
        Image.fromarray((small * 255 + 0.5).astype(np.uint8)).save(folder / f"img{i}.png")
    return folder


def _cfg(image_dir, out, **kw) -> TrainConfig:
    base = dict(arch="fastunet", arch_args={"widths": [8, 16, 32], "blocks": 1}, data=(str(image_dir),),
                out=str(out), noise="gaussian:25", steps=6, batch_size=4, patch_size=24, lr=2e-3,
                save_every=2, val_every=3, val=str(image_dir), val_limit=2)
    base.update(kw)
    return TrainConfig(**base)


def test_dihedral_covers_eight_distinct_transforms():
    x = torch.arange(9.0).reshape(1, 3, 3)
    outs = {tuple(dihedral(x, k).flatten().tolist()) for k in range(8)}
    assert len(outs) == 8
    assert torch.equal(dihedral(x, 0), x)
    wide = torch.arange(12.0).reshape(1, 3, 4)
    assert all(torch.equal(undo_dihedral(dihedral(wide, k), k), wide) for k in range(8))


def test_batches_depend_only_on_seed_and_step(image_dir):
    from restorekit.degradations import parse_spec

    images = ImageFolder([image_dir], channels=1)
    spec = parse_spec("gaussian:25")
    def batch(step, rank=0):
        return make_batch(images, spec, batch_size=4, patch_size=16, generator=SeedScheme(3).step(step, rank))

    a, b, c = batch(7), batch(7), batch(8)
    assert torch.equal(a.noisy, b.noisy) and torch.equal(a.clean, b.clean)
    assert not torch.equal(a.clean, c.clean)
    assert a.clean.shape == (4, 1, 16, 16)
    assert torch.allclose(a.sigma, torch.full((4,), 25 / 255))
    other_rank = batch(7, rank=1)
    assert not torch.equal(a.clean, other_rank.clean)


def test_patches_come_from_the_images(image_dir):
    images = ImageFolder([image_dir], channels=3)  # gray -> 3 channels by repetition
    patches = random_patches(images, 5, 20, torch.Generator().manual_seed(0))
    assert patches.shape == (5, 3, 20, 20)
    assert torch.equal(patches[:, 0], patches[:, 1])
    assert 0 <= patches.min() and patches.max() <= 1


def test_image_smaller_than_patch_is_a_clear_error(image_dir):
    images = ImageFolder([image_dir], channels=1, min_size=64)
    with pytest.raises(RestorekitError, match="smaller than"):
        images[0]


def test_config_rejects_unknown_keys(image_dir, tmp_path):
    with pytest.raises(RestorekitError, match="unknown training option"):
        TrainConfig.from_dict({"arch": "dncnn", "data": [str(image_dir)], "out": "x", "lerning_rate": 1})


def test_training_loss_falls_and_best_model_loads(image_dir, tmp_path):
    from restorekit.models import load_model
    from restorekit.train.trainer import train

    cfg = _cfg(image_dir, tmp_path / "run", steps=40, val_every=10, save_every=10, lr=5e-3)
    result = train(cfg, progress=False)
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    losses = [float(r.split(",")[2]) for r in rows[1:]]
    assert losses[-1] < 0.85 * losses[0]  # starts as the identity: loss = mean |noise| = 0.078
    model = load_model(tmp_path / "run")
    assert model.arch == "fastunet" and model.meta["training"]["step"] in (10, 20, 30, 40)
    assert result.best_psnr > 21.5  # the noisy input is 20.2 dB at sigma 25


def _killed_after_step_4(trainer, cfg, monkeypatch) -> None:
    """Run ``cfg`` until the process dies while drawing step 5 (after step 4's checkpoint)."""
    real, calls = trainer.make_batch, []

    def killed_at_step_5(*args, **kw):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(trainer, "make_batch", killed_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(cfg, progress=False)
    monkeypatch.setattr(trainer, "make_batch", real)


def test_kill_and_resume_gives_the_same_weights(image_dir, tmp_path, monkeypatch):
    import restorekit.train.trainer as trainer

    whole = trainer.train(_cfg(image_dir, tmp_path / "whole"), progress=False)
    assert whole.step == 6

    _killed_after_step_4(trainer, _cfg(image_dir, tmp_path / "split"), monkeypatch)
    resumed = trainer.train(_cfg(image_dir, tmp_path / "split"), resume=True, progress=False)
    assert resumed.step == 6

    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["best"] == b["best"]


def test_the_logged_time_carries_on_across_a_resume(image_dir, tmp_path, monkeypatch):
    import csv

    import restorekit.train.trainer as trainer

    _killed_after_step_4(trainer, _cfg(image_dir, tmp_path / "run"), monkeypatch)
    log = tmp_path / "run" / "log.csv"
    rows = list(csv.DictReader(log.open()))
    assert [r["step"] for r in rows] == ["2", "3", "4"]
    rows[-1].update(elapsed_s="2000.0", cpu_s="1000.0")  # as if the first hours had been spent
    with log.open("w", newline="") as f:
        writer = csv.DictWriter(f, rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    trainer.train(_cfg(image_dir, tmp_path / "run"), resume=True, progress=False)
    after = list(csv.DictReader(log.open()))[3:]
    assert [r["step"] for r in after] == ["6"]
    assert 2000 <= float(after[0]["elapsed_s"]) < 2100 and 1000 <= float(after[0]["cpu_s"]) < 1100


def test_a_checkpoint_without_a_seed_scheme_resumes_under_the_legacy_one(image_dir, tmp_path, monkeypatch):
    # Checkpoints written before the scheme was recorded resume exactly: a whole run under the
    # legacy scheme equals one stopped at step 4, its checkpoint stripped of the scheme, resumed.
    import restorekit.train.trainer as trainer

    monkeypatch.setattr(trainer, "SeedScheme", lambda seed, name=LEGACY: SeedScheme(seed, name))
    whole = trainer.train(_cfg(image_dir, tmp_path / "whole"), progress=False)
    _killed_after_step_4(trainer, _cfg(image_dir, tmp_path / "old"), monkeypatch)
    monkeypatch.undo()
    state = torch.load(tmp_path / "old" / "last.pt", weights_only=True)
    del state["seed_scheme"]
    torch.save(state, tmp_path / "old" / "last.pt")

    resumed = trainer.train(_cfg(image_dir, tmp_path / "old"), resume=True, progress=False)
    assert resumed.step == whole.step == 6
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "old" / "last.pt", weights_only=True)
    assert b["seed_scheme"] == LEGACY
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_an_unknown_seed_scheme_is_refused(image_dir, tmp_path):
    from restorekit.train.trainer import train

    train(_cfg(image_dir, tmp_path / "r", steps=2), progress=False)
    state = torch.load(tmp_path / "r" / "last.pt", weights_only=True)
    state["seed_scheme"] = "from-the-future"
    torch.save(state, tmp_path / "r" / "last.pt")
    with pytest.raises(RestorekitError, match="seed scheme 'from-the-future'"):
        train(_cfg(image_dir, tmp_path / "r", steps=4), resume=True, progress=False)


def test_a_new_run_never_replaces_an_existing_one(image_dir, tmp_path, run_cli):
    from restorekit.train.trainer import train

    train(_cfg(image_dir, tmp_path / "r", steps=2), progress=False)
    before = (tmp_path / "r" / "last.pt").read_bytes()
    with pytest.raises(RestorekitError, match="already holds a run"):
        train(_cfg(image_dir, tmp_path / "r", steps=3), progress=False)
    assert (tmp_path / "r" / "last.pt").read_bytes() == before
    code, _, err = run_cli("finetune", "--from", tmp_path / "r", "--data", image_dir, "--steps", "1",
                           "--batch-size", "2", "--patch-size", "16", "--out", tmp_path / "r", "--quiet")
    assert code == 1 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert train(_cfg(image_dir, tmp_path / "r", steps=3), overwrite=True, progress=False).step == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run on the GPU machine)")
def test_train_validate_and_resume_on_cuda(image_dir, tmp_path):
    from restorekit.train.trainer import train

    cfg = _cfg(image_dir, tmp_path / "cuda", steps=4, device="cuda", val_every=2, save_every=2)
    first = train(cfg.replace(steps=2), progress=False)  # validates at step 2: the model must stay on the GPU
    assert first.best_psnr > 0
    resumed = train(cfg, resume=True, progress=False)  # optimizer state loaded onto the GPU
    assert resumed.step == 4


def test_resume_without_checkpoint_is_a_clear_error(image_dir, tmp_path):
    from restorekit.train.trainer import train

    with pytest.raises(RestorekitError, match="nothing to resume"):
        train(_cfg(image_dir, tmp_path / "fresh"), resume=True, progress=False)


def test_cli_train_runs_and_reports(image_dir, tmp_path, run_cli):
    code, out, err = run_cli("train", "--arch", "dncnn", "--arch-args", '{"depth": 3, "features": 8}',
                             "--data", image_dir, "--val", image_dir, "--val-limit", "1", "--noise", "gaussian:25",
                             "--steps", "3", "--batch-size", "2", "--patch-size", "16", "--out", tmp_path / "r",
                             "--quiet")
    assert code == 0, err
    assert "best validation PSNR" in out
    assert (tmp_path / "r" / "best.safetensors").exists()
    code, _, err = run_cli("train", "--arch", "dncnn", "--data", tmp_path / "nope", "--out", tmp_path / "r2")
    assert code == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_two_process_ddp_on_gloo_with_frozen_layers(image_dir, tmp_path):
    # --freeze before the DDP wrapper: wrapped first, DDP waits for gradients of the frozen
    # layers and fails ("Expected to have finished reduction ...").
    from restorekit.models import create_model

    out = tmp_path / "ddp"
    init = tmp_path / "init.safetensors"
    from restorekit.models.weights import save_weights

    save_weights(init, create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "restorekit", "finetune", "--from", str(init), "--freeze", "2",
           "--data", str(image_dir), "--noise", "gaussian:25", "--steps", "4", "--batch-size", "2",
           "--patch-size", "16", "--save-every", "2", "--out", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 4 and state["seed_scheme"] == "seedseq-v1"
    from restorekit.models import load_model

    before = load_model(init).state_dict()
    convs = [k for k in before if k.endswith(".weight") and before[k].ndim == 4]
    assert torch.equal(state["model"][convs[0]], before[convs[0]])  # frozen
    assert any(not torch.equal(state["model"][k], before[k]) for k in convs[2:])  # the rest learned
    log = (out / "log.csv").read_text().splitlines()
    assert log[-1].split(",")[1] == str(4 * 2 * 2)  # patches counted over both ranks


def test_epochs_cover_the_data_pixels(image_dir, tmp_path, run_cli):
    # 6 images of 48x40 = 11520 pixels; a step of 4 patches of 24x24 covers 2304: 5 steps an epoch
    code, _, err = run_cli("train", "--arch", "dncnn", "--arch-args", '{"depth": 3, "features": 4}',
                           "--data", image_dir, "--epochs", "2", "--batch-size", "4", "--patch-size", "24",
                           "--out", tmp_path / "e", "--quiet")
    assert code == 0, err
    assert torch.load(tmp_path / "e" / "last.pt", weights_only=True)["step"] == 10


def test_non_gaussian_noise_stores_the_level_for_blind_use(image_dir, tmp_path):
    # Trained on salt-and-pepper, the model is told the noise's RMS, which the Gaussian
    # estimator cannot read from an image: blind use must take the level the run measured.
    from restorekit.infer import denoise
    from restorekit.models import load_model
    from restorekit.train.trainer import train

    train(_cfg(image_dir, tmp_path / "sp", noise="saltpepper:0.1", steps=2, val=None), progress=False)
    model = load_model(tmp_path / "sp")
    level = model.meta["blind_sigma"]
    assert 0.1 < level < 0.3  # 10% impulses of 0 or 1 on mid-grey content: RMS ~ 0.17
    noisy = np.random.default_rng(0).random((40, 36)).astype(np.float32)
    assert np.array_equal(denoise(noisy, model), denoise(noisy, model, sigma=level))

    train(_cfg(image_dir, tmp_path / "g", steps=2, val=None), progress=False)
    assert "blind_sigma" not in load_model(tmp_path / "g").meta  # Gaussian: the estimator measures it


def test_holdout_validates_on_training_images_never_trained_on(image_dir, tmp_path, monkeypatch):
    import restorekit.train.trainer as trainer
    from restorekit.data.folders import holdout

    held = holdout([image_dir], 2)
    assert held == holdout([image_dir], 2) and len(set(held)) == 2  # fixed, no seed involved
    seen = []
    real = trainer.ImageFolder

    def spy(dirs, *args, **kw):
        folder = real(dirs, *args, **kw)
        seen.append([p.name for p in folder.paths])
        return folder

    monkeypatch.setattr(trainer, "ImageFolder", spy)
    result = trainer.train(_cfg(image_dir, tmp_path / "h", val=None, holdout=2), progress=False)
    training, validation = seen
    assert sorted(validation) == sorted(p.name for p in held)
    assert not set(training) & set(validation) and len(training) == 4
    assert result.best_psnr > 0
    with pytest.raises(RestorekitError, match="not both"):
        _cfg(image_dir, tmp_path / "x", holdout=2)  # --val given too


def test_wsd_holds_the_rate_then_decays_to_its_floor(image_dir, tmp_path):
    from restorekit.train.trainer import lr_at

    cfg = _cfg(image_dir, tmp_path, steps=100, warmup=10, schedule="wsd", decay=0.3, lr=1e-3, lr_min=1e-6)
    rates = [lr_at(s, cfg) for s in range(100)]
    assert cfg.decay_start == 70
    assert rates[0] == pytest.approx(1e-4) and all(r == 1e-3 for r in rates[9:70])
    assert all(a > b for a, b in zip(rates[70:], rates[71:])) and rates[99] < 2e-5
    cosine = cfg.replace(schedule="cosine")
    assert lr_at(40, cosine) < 1e-3 and cosine.decay_start == 10


def test_an_extended_wsd_run_is_the_run_planned_that_long(image_dir, tmp_path, capsys):
    import restorekit.train.trainer as trainer

    long = dict(steps=10, schedule="wsd", decay=0.4, save_every=1, val_every=5, warmup=2)
    trainer.train(_cfg(image_dir, tmp_path / "planned", **long), progress=False)
    trainer.train(_cfg(image_dir, tmp_path / "grown", **{**long, "steps": 5}), progress=False)  # decays from step 3
    assert (tmp_path / "grown" / "stable.pt").exists()
    result = trainer.train(_cfg(image_dir, tmp_path / "grown", **long), resume=True, progress=False)
    assert result.step == 10 and "from step 3 (stable.pt)" in capsys.readouterr().err
    a = torch.load(tmp_path / "planned" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "grown" / "last.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    log = (tmp_path / "grown" / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in log[1:]] == [str(s) for s in range(1, 11)]  # the decayed steps 4-5 are gone


def test_a_bad_schedule_is_one_clear_error(image_dir, tmp_path):
    with pytest.raises(RestorekitError, match="unknown schedule"):
        _cfg(image_dir, tmp_path, schedule="step")
    with pytest.raises(RestorekitError, match="fraction"):
        _cfg(image_dir, tmp_path, schedule="wsd", decay=0)


def test_a_checkpoint_from_before_an_architecture_argument_existed_resumes(image_dir, tmp_path, monkeypatch):
    import restorekit.train.trainer as trainer

    _killed_after_step_4(trainer, _cfg(image_dir, tmp_path / "old"), monkeypatch)
    state = torch.load(tmp_path / "old" / "last.pt", weights_only=True)
    del state["arch_args"]["rep"]  # saved before FastUNet had ``rep``
    torch.save(state, tmp_path / "old" / "last.pt")
    assert trainer.train(_cfg(image_dir, tmp_path / "old"), resume=True, progress=False).step == 6


def test_validation_tells_each_image_the_rms_of_its_own_noise(image_dir):
    # A real-noise run's curve must follow the network, not one stored level's distance
    # from each image's (that once made a real-noise run's curve fall as it improved).
    from restorekit.train.trainer import Validator

    told = []

    class Recorder(torch.nn.Module):
        in_channels, multiple, conditioned = 1, 1, True

        def forward(self, x, sigma):
            told.append(float(torch.as_tensor(sigma).reshape(-1)[0]))
            return x

    images = ImageFolder([str(image_dir)], channels=1, cache_mb=0)
    validate = Validator(images, "camera+jpeg:70-90", 1, 3, SeedScheme(0))
    validate(Recorder())
    rms = [float(np.sqrt(np.mean((n - c) ** 2))) for c, n in zip(validate.clean, validate.noisy)]
    np.testing.assert_allclose(told, rms, rtol=1e-6)
    assert len(set(np.round(told, 6))) == 3  # one level per image


def test_psnr_loss_is_minus_the_mean_psnr_of_the_patches_and_weights_each_alike():
    from restorekit.losses.supervised import PSNR_FLOOR, psnr_loss

    clean = torch.rand(2, 1, 8, 8)
    pred = clean + torch.stack([torch.full((1, 8, 8), 0.1), torch.full((1, 8, 8), 0.01)])
    expected = -(10 * np.log10(1 / (0.01 + PSNR_FLOOR)) + 10 * np.log10(1 / (1e-4 + PSNR_FLOOR))) / 2
    assert psnr_loss(pred, clean).item() == pytest.approx(expected, rel=1e-5)
    # Each patch's gradient is divided by its own squared error: the cleaner patch is not drowned out
    # by the noisier one, as it is under the squared error (where the ratio would be 1/10).
    pred.requires_grad_(True)
    psnr_loss(pred, clean, floor=0.0).backward()
    grad = pred.grad.flatten(1).norm(dim=1)
    assert grad[1] / grad[0] == pytest.approx(10, rel=1e-4)  # 1/error: the cleaner patch pulls harder


def test_the_weights_average_moves_a_thousandth_of_the_way_per_step():
    from restorekit.train.ema import EmaWeights

    model = torch.nn.Conv2d(1, 1, 3)
    start = model.weight.detach().clone()
    ema = EmaWeights(model, 0.999)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.model.weight, start + 0.001)
    assert not ema.model.weight.requires_grad and torch.equal(model.weight, start + 1.0)  # the model is not touched
    with pytest.raises(ValueError, match="decay"):
        EmaWeights(model, 1.0)


def test_a_run_with_a_weights_average_validates_keeps_and_resumes_it(image_dir, tmp_path, monkeypatch):
    import csv

    import restorekit.train.trainer as trainer
    from restorekit.models import load_model

    cfg = dict(ema=0.5, steps=6, val_every=3)
    trainer.train(_cfg(image_dir, tmp_path / "whole", **cfg), progress=False)
    _killed_after_step_4(trainer, _cfg(image_dir, tmp_path / "split", **cfg), monkeypatch)
    trainer.train(_cfg(image_dir, tmp_path / "split", **cfg), resume=True, progress=False)
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    assert sorted(a["ema"]) == sorted(a["model"])
    for k in a["model"]:  # the average resumes exactly too
        assert torch.equal(a["ema"][k], b["ema"][k]) and torch.equal(a["model"][k], b["model"][k]), k
    assert any(not torch.equal(a["ema"][k], a["model"][k]) for k in a["model"])  # an average, not a copy
    rows = [r for r in csv.DictReader((tmp_path / "whole" / "log.csv").open()) if r["val_psnr"]]
    assert [r["step"] for r in rows] == ["3", "6"] and all(r["val_raw"] for r in rows)

    trainer.train(_cfg(image_dir, tmp_path / "short", **{**cfg, "steps": 3}), progress=False)
    best = load_model(tmp_path / "short")  # validated once, at its last step: best.safetensors is the average
    last = torch.load(tmp_path / "short" / "last.pt", weights_only=True)
    assert all(torch.equal(v, last["ema"][k]) for k, v in best.state_dict().items())
    assert any(not torch.equal(v, last["model"][k]) for k, v in best.state_dict().items())


def test_ema_outside_zero_to_one_is_one_clear_error(image_dir, tmp_path):
    with pytest.raises(RestorekitError, match="ema"):
        _cfg(image_dir, tmp_path, ema=1.0)


def test_bf16_on_the_cpu_autocasts_the_forward_pass_and_keeps_float32_weights(image_dir, tmp_path):
    from restorekit.train.trainer import train

    runs = {p: train(_cfg(image_dir, tmp_path / p, precision=p), progress=False) for p in ("auto", "fp32", "bf16")}
    states = {p: torch.load(tmp_path / p / "last.pt", weights_only=True)["model"] for p in runs}
    assert all(v.dtype == torch.float32 for v in states["bf16"].values() if v.is_floating_point())
    # auto is float32 on the CPU, bit for bit; bf16 computes otherwise, but learns the same thing
    assert all(torch.equal(states["auto"][k], states["fp32"][k]) for k in states["fp32"])
    differ = [k for k in states["fp32"] if not torch.equal(states["bf16"][k], states["fp32"][k])]
    assert differ
    assert abs(runs["bf16"].best_psnr - runs["fp32"].best_psnr) < 0.5


def test_an_unknown_precision_is_one_clear_error(image_dir, tmp_path):
    with pytest.raises(RestorekitError, match="precision"):
        _cfg(image_dir, tmp_path, precision="fp16")
