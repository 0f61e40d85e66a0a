"""Fine-tuning (channel adaptation, freezing, the CLI) and self-supervised objectives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restorekit.data.pairs import Batch
from restorekit.losses.self_supervised import n2v_mask, neighbor_subsample
from restorekit.models import create_model
from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.models.adapt import adapt_channels, grow, resize, shrink
from restorekit.models.weights import save_weights

TINY = {"fastunet": {"widths": [8, 16, 32], "blocks": 1}, "dncnn": {"depth": 4, "features": 8},
        "unet": {"widths": [8, 16], "blocks": 1}, "dae": {"features": 8, "levels": 2}}


def _randomise(model):
    # zero-initialised layers would make every adapted model trivially equal
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


@pytest.mark.parametrize("arch", sorted(TINY))
def test_gray_to_colour_keeps_gray_behaviour(arch):
    torch.manual_seed(0)
    gray = _randomise(create_model(arch, channels=1, **TINY[arch]))
    colour = adapt_channels(gray, 3).eval()
    assert colour.in_channels == 3 and colour.arch_args["channels"] == 3
    x = torch.rand(1, 1, 32, 32)
    sigma = torch.tensor([0.1])
    with torch.no_grad():
        expected = gray(x, sigma)
        got = colour(x.expand(1, 3, 32, 32), sigma)
    for c in range(3):
        torch.testing.assert_close(got[:, c : c + 1], expected, atol=1e-5, rtol=1e-4)
    back = adapt_channels(colour, 1).eval()
    with torch.no_grad():
        torch.testing.assert_close(back(x, sigma), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("rep", [False, True])
def test_a_grown_model_computes_what_it_grew_from(rep):
    torch.manual_seed(0)
    small = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1, rep=rep))
    deep = grow(small, {"blocks": 3}).eval()
    assert deep.arch_args["blocks"] == 3 and len(deep.enc1) == 3
    assert sum(p.numel() for p in deep.parameters()) > 2 * sum(p.numel() for p in small.parameters())
    torch.testing.assert_close(deep.enc1[0].conv1.weight if not rep else deep.enc1[0].conv1.conv3.weight,
                               small.enc1[0].conv1.weight if not rep else small.enc1[0].conv1.conv3.weight)
    x, sigma = torch.rand(2, 1, 40, 48), torch.tensor([0.05, 0.2])
    with torch.no_grad():
        torch.testing.assert_close(deep(x, sigma), small(x, sigma), atol=1e-5, rtol=1e-4)
    assert grow(small, dict(small.arch_args)) is small  # nothing to grow


@pytest.mark.parametrize("rep", [False, True])
def test_a_widened_model_computes_what_it_grew_from_and_trains_its_new_channels(rep):
    torch.manual_seed(0)
    small = _randomise(create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=2, rep=rep))
    wide = grow(small, {"widths": [12, 16, 40]}).eval()
    assert wide.head.weight.shape[0] == 12 and wide.down2.weight.shape[0] == 40
    x, sigma = torch.rand(2, 3, 40, 48), torch.tensor([0.05, 0.2])
    with torch.no_grad():
        torch.testing.assert_close(wide(x, sigma), small(x, sigma), atol=1e-5, rtol=1e-4)
    assert wide.head.weight[8:].abs().sum() > 0  # new channels carry features ...
    assert wide.tail.weight[:, 8:].abs().sum() == 0  # ... that nothing reads yet
    loss = (wide.train()(x, sigma) - x).square().mean()
    loss.backward()
    assert wide.tail.weight.grad[:, 8:].abs().sum() > 0  # training turns them on: no dead symmetry
    both = grow(small, {"widths": [12, 16, 32], "blocks": 3})  # wider and deeper at once
    with torch.no_grad():
        torch.testing.assert_close(both.eval()(x, sigma), small(x, sigma), atol=1e-5, rtol=1e-4)


def test_growth_that_would_change_the_outputs_is_refused(monkeypatch):
    small = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1))
    with pytest.raises(ModelLoadError, match=r"cannot grow fastunet widths \[8, 16, 32\] -> \[8, 16, 16\]: its down2.weight"):
        grow(small, {"widths": [8, 16, 16]})  # a narrowed layer
    with pytest.raises(ModelLoadError, match="depth 4 -> 6: (its body|the new layers change)"):
        grow(_randomise(create_model("dncnn", channels=1, depth=4, features=8)), {"depth": 6})  # layers renumbered
    import restorekit.models.adapt as adapt

    real = adapt.create_model
    monkeypatch.setattr(adapt, "create_model", lambda *a, **kw: _randomise(real(*a, **kw)).train())
    with pytest.raises(ModelLoadError, match="blocks 1 -> 2: the new layers change its outputs"):
        grow(small, {"blocks": 2})  # new blocks that are not the identity


def test_blocks_per_level_cost_where_they_are():
    from restorekit.models.complexity import macs_per_pixel

    even = create_model("fastunet", channels=1, widths=[16, 16, 16], blocks=2)
    lighter = create_model("fastunet", channels=1, widths=[16, 16, 16], blocks=[1, 2, 2])
    assert (len(lighter.enc1), len(lighter.dec1), len(lighter.enc2), len(lighter.body)) == (1, 1, 2, 2)
    assert lighter.arch_args["blocks"] == [1, 2, 2]
    # one block fewer in the encoder and the decoder of level 1 (a quarter of the pixels):
    # two residual blocks of two 3x3 convolutions of 16 channels
    assert macs_per_pixel(even) - macs_per_pixel(lighter) == pytest.approx(2 * 2 * 16 * 16 * 9 / 4)
    with pytest.raises(ModelLoadError, match="blocks must be a positive number or one per level"):
        create_model("fastunet", channels=1, blocks=[2, 2])


def test_a_shrunk_model_keeps_every_layer_it_still_has(tmp_path):
    torch.manual_seed(0)
    deep = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=3))
    slim = resize(deep, {"blocks": [2, 3, 3]}).eval()  # fewer blocks: shrink, not grow
    assert slim.arch_args["blocks"] == [2, 3, 3] and len(slim.enc1) == 2 and len(slim.enc2) == 3
    for key, value in slim.state_dict().items():
        torch.testing.assert_close(value, deep.state_dict()[key])
    manual = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=3))
    manual.load_state_dict(deep.state_dict())
    manual.enc1, manual.dec1 = manual.enc1[:2], manual.dec1[:2]  # the same network, by hand
    x, sigma = torch.rand(1, 1, 32, 40), torch.tensor([0.1])
    with torch.no_grad():
        torch.testing.assert_close(slim(x, sigma), manual.eval()(x, sigma))
    regrown = resize(slim, {"blocks": 3})  # and back: the dropped blocks return as the identity
    with torch.no_grad():
        torch.testing.assert_close(regrown.eval()(x, sigma), slim(x, sigma), atol=1e-5, rtol=1e-4)
    from restorekit.models import load_model

    loaded = load_model(save_weights(tmp_path / "slim.safetensors", slim)).eval()  # the counts survive saving
    assert loaded.arch_args["blocks"] == [2, 3, 3]
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, sigma), slim(x, sigma))
    with pytest.raises(ModelLoadError, match=r"cannot shrink fastunet .*widths \[8, 16, 32\] -> \[8, 8, 32\]"):
        shrink(deep, {"widths": [8, 8, 32], "blocks": 2})  # a narrowed level is no shrink


def test_training_from_a_smaller_model_grows_it(folders, tmp_path):
    from restorekit.models import load_model
    from restorekit.train.config import TrainConfig
    from restorekit.train.trainer import train

    clean, _ = folders
    small = _randomise(create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1))
    start = save_weights(tmp_path / "start.safetensors", small)
    cfg = TrainConfig(arch="fastunet", arch_args={"widths": [8, 16, 32], "blocks": 2}, data=(str(clean),),
                      out=str(tmp_path / "run"), init_from=str(start), steps=2, batch_size=2, patch_size=32,
                      lr=1e-3, save_every=1, val_every=2, val=str(clean), val_limit=1)
    train(cfg, progress=False)
    trained = load_model(tmp_path / "run")
    assert trained.arch_args["blocks"] == 2 and len(trained.body) == 2
    train(cfg.replace(arch_args={**cfg.arch_args, "rep": True}, out=str(tmp_path / "rep")), progress=False)
    assert load_model(tmp_path / "rep").arch_args["rep"] is True  # the plain start went on in branches
    with pytest.raises(RestorekitError, match="start.safetensors is a fastunet model; the config asks for dncnn"):
        train(cfg.replace(arch="dncnn", arch_args={}, out=str(tmp_path / "other")), progress=False)


def test_n2v_mask_replaces_only_masked_pixels_by_neighbours():
    g = torch.Generator().manual_seed(0)
    noisy = torch.rand(2, 1, 64, 64)
    masked, mask = n2v_mask(noisy, g, ratio=0.05)
    frac = mask.float().mean().item()
    assert 0.03 < frac < 0.07
    assert torch.equal(masked[~mask.expand_as(masked)], noisy[~mask.expand_as(noisy)])
    assert (masked[mask.expand_as(masked)] != noisy[mask.expand_as(noisy)]).float().mean() > 0.99


def test_neighbor_subsample_takes_two_adjacent_pixels_per_cell():
    g = torch.Generator().manual_seed(0)
    h = w = 8
    index = torch.arange(h * w, dtype=torch.float32).reshape(1, 1, h, w)
    g1, g2, _ = neighbor_subsample(index, g)
    assert g1.shape == (1, 1, 4, 4)
    y1, x1 = g1 // w, g1 % w
    y2, x2 = g2 // w, g2 % w
    assert torch.all((y1 // 2 == y2 // 2) & (x1 // 2 == x2 // 2))  # same 2x2 cell
    assert torch.all((y1 - y2).abs() + (x1 - x2).abs() == 1)  # edge-adjacent, never equal


@pytest.mark.parametrize("method", ["n2v", "neighbor2neighbor"])
def test_self_supervised_objectives_never_read_clean(method):
    from restorekit.losses import get_objective

    noisy = torch.rand(2, 1, 32, 32)
    batch = Batch(clean=torch.full_like(noisy, float("nan")), noisy=noisy, sigma=torch.full((2,), 0.1))
    model = create_model("fastunet", channels=1, **TINY["fastunet"])
    loss = get_objective(self_supervised=method)(model, batch, torch.Generator().manual_seed(0))
    assert torch.isfinite(loss)
    loss.backward()


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    """Clean 64x64 crops of a real image, and their noisy (sigma 25, 8-bit) versions."""
    from skimage import data

    base = data.camera()
    clean, noisy = tmp_path / "clean", tmp_path / "noisy"
    clean.mkdir()
    noisy.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        crop = base[100 + 64 * i : 164 + 64 * i, 150:214]
        Image.fromarray(crop).save(clean / f"{i}.png")
        n = np.clip(crop + rng.normal(0, 25, crop.shape), 0, 255) + 0.5
        Image.fromarray(n.astype(np.uint8)).save(noisy / f"{i}.png")
    return clean, noisy


def test_finetune_cli_adapts_channels_and_freezes(folders, tmp_path, run_cli):
    clean, _ = folders
    model = create_model("fastunet", channels=1, **TINY["fastunet"])
    start = save_weights(tmp_path / "start.safetensors", model, {"note": "test"})
    code, out, err = run_cli("finetune", "--from", start, "--data", clean, "--noise", "speckle:0.25",
                             "--steps", "3", "--batch-size", "2", "--patch-size", "32", "--channels", "3",
                             "--freeze", "1", "--out", tmp_path / "ft", "--quiet")
    assert code == 0, err
    from restorekit.models import load_model

    tuned = load_model(tmp_path / "ft")
    assert tuned.in_channels == 3
    adapted = adapt_channels(model, 3)
    assert torch.equal(tuned.head.weight, adapted.head.weight)  # frozen
    assert not torch.equal(tuned.tail.weight, adapted.tail.weight)  # trained


def test_finetune_cli_grows_the_model(folders, tmp_path, run_cli):
    clean, _ = folders
    start = save_weights(tmp_path / "start.safetensors", create_model("fastunet", channels=1, **TINY["fastunet"]))
    common = ["--data", clean, "--noise", "gaussian:25", "--steps", "2", "--batch-size", "2", "--patch-size", "32",
              "--quiet"]
    code, _, err = run_cli("finetune", "--from", start, "--grow", '{"blocks": 2}', *common, "--out", tmp_path / "ft")
    assert code == 0, err
    from restorekit.models import load_model

    assert load_model(tmp_path / "ft").arch_args["blocks"] == 2
    for bad, says in (("{blocks: 2}", "--grow is not valid JSON"), ("[2]", "--grow takes a JSON object")):
        code, _, err = run_cli("finetune", "--from", start, "--grow", bad, *common, "--out", tmp_path / "bad")
        assert code == 1 and err.startswith(f"error: {says}") and len(err.strip().splitlines()) == 1


def test_finetune_from_missing_model_is_one_line(tmp_path, run_cli):
    code, _, err = run_cli("finetune", "--from", tmp_path / "nope.safetensors", "--data", tmp_path, "--out", tmp_path / "x")
    assert code == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("method", ["n2v", "neighbor2neighbor"])
def test_self_supervised_training_learns_from_noisy_images(folders, tmp_path, run_cli, method):
    from restorekit.infer import denoise
    from restorekit.io import read_image
    from restorekit.metrics import psnr
    from restorekit.models import load_model

    clean, noisy = folders
    code, _, err = run_cli("train", "--self-supervised", "--method", method, "--arch", "fastunet",
                           "--arch-args", '{"widths": [16, 32, 64], "blocks": 1}', "--data", noisy,
                           "--steps", "60", "--batch-size", "4", "--patch-size", "32", "--lr", "3e-3",
                           "--out", tmp_path / method, "--quiet")
    assert code == 0, err
    model = load_model(tmp_path / method)
    gains = []
    for i in range(4):
        x = read_image(clean / f"{i}.png")[0]
        y = read_image(noisy / f"{i}.png")[0]
        gains.append(psnr(x, np.clip(denoise(y, model), 0, 1)) - psnr(x, y))
    assert np.mean(gains) > 1.0, gains
