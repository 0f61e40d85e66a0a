"""Our checkpoints (safetensors + JSON), load_model's resolution, and foreign DnCNN import."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import torch.nn.functional as F

import restorekit.models as models
from restorekit.errors import ModelLoadError
from restorekit.models import create_model, list_architectures, list_models, load_model
from restorekit.models.foreign import from_state_dict, load_foreign
from restorekit.models.weights import load_weights, round_weights, save_weights
from conftest import shared_anchor

SMALL = {"dncnn": dict(depth=4, features=8), "dae": dict(features=4, levels=2),
         "unet": dict(widths=[4, 8], blocks=1), "fastunet": dict(widths=[4, 8, 8], blocks=1)}


def _trained_a_little(arch: str, channels: int) -> torch.nn.Module:
    """A model whose parameters and BN statistics differ from a fresh one."""
    model = create_model(arch, channels=channels, **SMALL.get(arch, {}))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
        model.train()
        model(torch.rand(2, channels, 16, 16, generator=gen), torch.tensor([0.1, 0.2]))  # BN running stats
    return model.eval()


def _output(model, channels=1):
    x = torch.rand(1, channels, 16, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return model(x, torch.tensor([0.1]))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("arch", list_architectures())
def test_round_trip_gives_identical_outputs(tmp_path, arch, channels):
    model = _trained_a_little(arch, channels)
    path = save_weights(tmp_path / "m.safetensors", model, {"noise": "gaussian:25", "psnr": 30.1})
    loaded = load_weights(path)
    assert not loaded.training
    assert loaded.meta["arch"] == arch and loaded.meta["noise"] == "gaussian:25"
    assert torch.equal(_output(model, channels), _output(loaded, channels))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]  # no temp files left


@pytest.mark.parametrize("arch", list_architectures())
def test_half_precision_storage_is_what_round_weights_measures(tmp_path, arch):
    model = _trained_a_little(arch, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    full = save_weights(tmp_path / "full.safetensors", model, {"stored_dtype": "float16"})  # stale key dropped
    half = save_weights(tmp_path / "half.safetensors", model, {}, dtype=torch.float16)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # saving rounds no model
    assert half.stat().st_size < 0.6 * full.stat().st_size
    assert "stored_dtype" not in json.loads(full.with_suffix(".json").read_text())
    assert json.loads(half.with_suffix(".json").read_text())["stored_dtype"] == "float16"
    loaded = load_weights(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())  # computes in float32
    rounded = round_weights(model, torch.float16)
    assert torch.equal(_output(rounded, 3), _output(loaded, 3))  # the measured model is the file
    assert not torch.equal(_output(rounded, 3), _output(load_weights(full), 3))  # rounding did change it
    assert torch.allclose(_output(rounded, 3), _output(load_weights(full), 3), atol=1e-2)


def test_half_precision_refuses_weights_it_cannot_hold(tmp_path):
    model = create_model("dncnn", depth=3, features=4)
    with torch.no_grad():
        next(model.parameters())[0] = 1e6  # beyond float16's 65504
    with pytest.raises(ValueError, match="does not fit torch.float16"):
        save_weights(tmp_path / "m.safetensors", model, {}, dtype=torch.float16)
    with pytest.raises(ValueError, match="does not fit"):
        round_weights(model, torch.float16)
    assert not (tmp_path / "m.safetensors").exists()


def test_sidecar_holds_arch_args_and_meta(tmp_path):
    model = create_model("dncnn", channels=1, depth=5, features=8)
    save_weights(tmp_path / "m", model, {"data": "Train400"})  # suffix added
    info = json.loads((tmp_path / "m.json").read_text())
    # every argument is recorded, defaults included, so a later change of default breaks nothing
    args = {"channels": 1, "depth": 5, "features": 8, "batchnorm": True, "bias": None, "init": "dirac"}
    assert info == {"arch": "dncnn", "arch_args": args, "data": "Train400"}


def test_embedded_metadata_replaces_a_lost_sidecar(tmp_path):
    model = _trained_a_little("dncnn", 1)
    path = save_weights(tmp_path / "m.safetensors", model, {})
    (tmp_path / "m.json").unlink()
    assert torch.equal(_output(model), _output(load_weights(path)))


def test_meta_cannot_override_the_architecture(tmp_path):
    with pytest.raises(ValueError, match="arch"):
        save_weights(tmp_path / "m.safetensors", create_model("dncnn", depth=3), {"arch": "unet"})


def test_broken_checkpoints_fail_in_one_line(tmp_path):
    path = save_weights(tmp_path / "m.safetensors", create_model("dncnn", depth=4, features=8), {})
    side = tmp_path / "m.json"
    info = json.loads(side.read_text())

    side.write_text(json.dumps({**info, "arch_args": {"depth": 5, "features": 8}}))
    with pytest.raises(ModelLoadError, match="do not fit") as exc:
        load_weights(path)
    assert "\n" not in str(exc.value)

    side.write_text(json.dumps({**info, "arch": "nosuchnet"}))
    with pytest.raises(ModelLoadError, match="unknown architecture"):
        load_weights(path)

    side.write_text("{not json")
    with pytest.raises(ModelLoadError, match="metadata"):
        load_weights(path)

    side.write_text(json.dumps(info))
    path.write_bytes(b"\x00" * 10)
    with pytest.raises(ModelLoadError, match="safetensors"):
        load_weights(path)


def test_load_model_resolves_files_runs_and_shipped_names(tmp_path, monkeypatch):
    # in the layout load_model gives (channels-last), so that the outputs must match bit for bit
    model = _trained_a_little("dncnn", 1).to(memory_format=torch.channels_last)
    run = tmp_path / "run"
    save_weights(run / "best.safetensors", model, {})
    assert torch.equal(_output(model), _output(load_model(run)))
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in load_model(run).parameters() if p.dim() == 4)
    assert torch.equal(_output(model), _output(load_model(str(run / "best.safetensors"))))

    shipped = tmp_path / "weights"
    save_weights(shipped / "dncnn.gray-s25.safetensors", model, {})
    monkeypatch.setattr(models, "_weights_dir", lambda: shipped)
    assert list_models() == ["dncnn.gray-s25"]
    assert torch.equal(_output(model), _output(load_model("dncnn.gray-s25")))


def test_load_model_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="unknown model"):
        load_model(tmp_path / "missing.safetensors")
    with pytest.raises(ModelLoadError, match="unknown model 'nosuch.gray'"):
        load_model("nosuch.gray")
    with pytest.raises(ModelLoadError, match="best.safetensors"):
        load_model(tmp_path)
    (tmp_path / "x.onnx").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="unsupported"):
        load_model(tmp_path / "x.onnx")
    save_weights(tmp_path / "r" / "best.safetensors", create_model("dncnn", depth=3), {})
    with pytest.raises(ModelLoadError, match="device"):
        load_model(tmp_path / "r", device="nodevice")


def test_list_models_is_a_list_of_names():
    names = list_models()
    assert isinstance(names, list) and all(isinstance(n, str) and "/" not in n for n in names)


# ---- the shipped weights -------------------------------------------------------------------

# Statistics of the predicted noise ``x - model(x, sigma)`` of each shipped model on
# ``_pattern`` (batch 2, sigma 10 and 40): its mean, mean square and mean times a ramp over
# the flattened tensor (which a flip or a permutation changes). Recorded with the FastUNet of
# commit e521433, before it moved to the shared layers; equal to float32 rounding (~1e-9).
SHIPPED_CHECKSUMS = {
    # 4 blocks per level, level 1 widened to 48, its last block dropped, 176x176 six times, the last in
    # re-parameterisable branches, folded (float16); shipped 2026-12-07
    "fastunet.gray": (-0.0005851451540365815, 0.0039035954606521316, 0.00013095891800953035),
    # the gray model above trained on over sigma 0-30 alone, twice: its low-level partner (float16); shipped 2026-12-08
    "fastunet.gray-low": (-0.00043110887733443327, 0.003901248599744467, -1.74123472485298e-05),
    # 4 blocks per level, level 1 widened to 48, then its last block dropped (float16); shipped 2026-12-06
    "fastunet.color": (-1.0145234409719705e-05, 0.007142780016464705, -8.626567690762515e-06),
    # recorded when it shipped (commit ebf6fde)
    "fastunet.color-real": (-0.003408769759375395, 0.007564706231924129, -0.0015175591109578112),
    # recorded when it shipped (2026-12-04)
    "fastunet.gray-real": (-0.005003397428663447, 0.006179955500669799, -0.0020260541899760455),
}
CHECKSUM_TOLERANCE = 1e-6


def _pattern(channels: int, h: int = 40, w: int = 48, batch: int = 2) -> torch.Tensor:
    """A noisy-looking image from a formula: the same on every machine and torch version."""
    i = torch.arange(h, dtype=torch.float64).reshape(h, 1)
    j = torch.arange(w, dtype=torch.float64).reshape(1, w)
    images = [[(0.5 + 0.3 * torch.sin(0.21 * i + 0.13 * j + 1.7 * k + 0.9 * n)
                + 0.3 * (((i * 7919 + j * 104729 + k * 31 + n * 17) % 97) / 97 - 0.5)).clamp(0, 1)
               for k in range(channels)] for n in range(batch)]
    return torch.stack([torch.stack(channel) for channel in images]).float()  # [B, C, H, W]


@pytest.mark.parametrize("name", sorted(SHIPPED_CHECKSUMS))
def test_shipped_weights_fit_exactly_and_give_the_recorded_outputs(name):
    from safetensors.torch import load_file

    model = load_model(name)
    assert list_models() == sorted(SHIPPED_CHECKSUMS)  # a new shipped model needs its checksums
    stored = load_file(str(models.resolve_model_path(name)))
    own = model.state_dict()
    assert sorted(stored) == sorted(own)  # no missing, no unexpected keys
    assert all(torch.equal(stored[k].to(own[k].dtype), own[k]) for k in own)  # loaded bit for bit
    dtype = getattr(torch, model.meta.get("stored_dtype", "float32"))  # as the sidecar says
    assert all(v.dtype == dtype for v in stored.values() if v.is_floating_point())
    x = _pattern(model.in_channels)
    with torch.no_grad():
        noise = (x - model(x, torch.tensor([10 / 255, 40 / 255]))).double()
    ramp = torch.linspace(-1, 1, noise.numel(), dtype=torch.float64).reshape(noise.shape)
    got = (float(noise.mean()), float(noise.square().mean()), float((noise * ramp).mean()))
    assert got == pytest.approx(SHIPPED_CHECKSUMS[name], abs=CHECKSUM_TOLERANCE, rel=0)


# ---- foreign DnCNN checkpoints -------------------------------------------------------------


def _reference_dncnn(state: dict, x: torch.Tensor, prefix: str) -> torch.Tensor:
    """DnCNN written out by hand from the raw tensors: conv, (BN), ReLU ... conv; x - noise."""
    convs = sorted({int(k[len(prefix):].split(".")[0]) for k, v in state.items() if v.dim() == 4})
    y = x
    for n, i in enumerate(convs):
        y = F.conv2d(y, state[f"{prefix}{i}.weight"], state.get(f"{prefix}{i}.bias"), padding=1)
        bn = f"{prefix}{i + 1}."
        if bn + "running_mean" in state:
            y = F.batch_norm(y, state[bn + "running_mean"], state[bn + "running_var"],
                             state[bn + "weight"], state[bn + "bias"], eps=1e-5)
        if n < len(convs) - 1:
            y = F.relu(y)
    return x - y


def _as_kair(model) -> dict:
    return {k.replace("body.", "model."): v.clone() for k, v in model.state_dict().items()}


def _as_dataparallel(model) -> dict:
    # as saved by PyTorch < 0.4: no num_batches_tracked
    return {k.replace("body.", "module.dncnn."): v.clone() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


@pytest.mark.parametrize("layout", ["kair", "dataparallel"])
def test_foreign_layouts_round_trip(layout):
    bn = layout == "dataparallel"
    model = create_model("dncnn", channels=3, depth=6, features=8, batchnorm=bn).eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(0.1 * torch.rand(t.shape, generator=gen))  # also moves BN statistics
    state = _as_kair(model) if layout == "kair" else _as_dataparallel(model)
    loaded = from_state_dict(state)
    assert loaded.meta["layout"] == layout
    assert loaded.arch_args == {"channels": 3, "depth": 6, "features": 8, "batchnorm": bn, "bias": not bn, "init": "dirac"}
    x = torch.rand(1, 3, 11, 13, generator=gen)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_foreign_wrong_keys_or_shapes_fail_clearly(caplog):
    model = create_model("dncnn", channels=1, depth=5, features=8, batchnorm=False)
    good = _as_kair(model)
    with pytest.raises(ModelLoadError, match="unrecognised checkpoint layout"):
        from_state_dict({"encoder.0.weight": torch.zeros(8, 1, 3, 3)})
    with pytest.raises(ModelLoadError, match="not a state dict"):
        from_state_dict({"epoch": 3})
    bad_shape = dict(good, **{"model.4.weight": torch.zeros(8, 8, 5, 5)})
    with pytest.raises(ModelLoadError, match="shape mismatch model|shape mismatch body.4.weight"):
        from_state_dict(bad_shape)
    missing = {k: v for k, v in good.items() if k != "model.4.bias"}
    with caplog.at_level(logging.WARNING), pytest.raises(ModelLoadError, match="1 missing") as exc:
        from_state_dict(missing)
    assert "\n" not in str(exc.value)
    assert "body.4.bias" in caplog.text
    with pytest.raises(ModelLoadError, match="1 or 3 channels"):
        from_state_dict(dict(good, **{"model.0.weight": torch.zeros(8, 2, 3, 3)}))


def test_foreign_files_that_are_not_checkpoints(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelLoadError, match="not a loadable"):
        load_model(junk)
    pickled = tmp_path / "code.pth"
    torch.save({"model.0.weight": logging.getLogger("x")}, pickled)  # needs unsafe unpickling
    with pytest.raises(ModelLoadError, match="not a loadable"):
        load_foreign(pickled)


ANCHORS = {  # file -> (depth, batchnorm)
    "kair_dncnn_25.pth": (17, False),
    "saoyan_dncnn_S-15.pth": (17, True),
    "saoyan_dncnn_S-25.pth": (17, True),
    "saoyan_dncnn_S-50.pth": (17, True),
    "saoyan_dncnn_B.pth": (20, True),
}


@pytest.mark.parametrize("name", sorted(ANCHORS))
def test_published_anchors_load_and_match_a_hand_written_dncnn(name):
    path = shared_anchor(name)
    model = load_model(path)
    depth, bn = ANCHORS[name]
    assert model.arch == "dncnn" and model.in_channels == 1
    assert model.arch_args["depth"] == depth and model.arch_args["batchnorm"] == bn
    raw = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "model." if name.startswith("kair") else "module.dncnn."
    x = torch.rand(1, 1, 19, 23, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(model(x), _reference_dncnn(raw, x, prefix), atol=1e-5)
