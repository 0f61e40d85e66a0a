"""ONNX export: onnxruntime equals PyTorch at several sizes, names, dynamic axes, metadata, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from restorekit.infer.tiling import apply_padded

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from restorekit.errors import RestorekitError  # noqa: E402
from restorekit.export import check_onnx, export_onnx, read_onnx_meta, run_onnx  # noqa: E402
from restorekit.models import create_model  # noqa: E402
from restorekit.models.weights import save_weights  # noqa: E402


def _randomise(model, std):
    """Random weights everywhere: zero-initialised layers would hide wiring bugs."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)
    return model.eval()


def _model(kind: str):
    if kind == "fastunet":  # noise-conditioned, multiple 8
        return _randomise(create_model("fastunet", channels=3, widths=[8, 16, 32], blocks=1), 0.1)
    net = _randomise(create_model("dncnn", channels=1, depth=5, features=8), 0.2)  # not conditioned
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.fill_(1.3)  # eval-mode batch norm must be baked into the graph
            m.running_mean.fill_(0.05)
    return net


@pytest.mark.parametrize("kind", ["fastunet", "dncnn"])
def test_onnxruntime_equals_pytorch_at_two_sizes(tmp_path, kind):
    net = _model(kind)
    path = export_onnx(net, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    conditioned = kind == "fastunet"
    gen = torch.Generator().manual_seed(1)
    for batch, h, w in ((1, 48, 64), (2, 24, 40), (1, 201, 333), (2, 37, 29)):  # any size: the graph pads
        x = torch.rand(batch, net.in_channels, h, w, generator=gen)
        sigma = torch.tensor([15 / 255, 50 / 255][:batch])
        with torch.inference_mode():
            ref = apply_padded((lambda t: net(t, sigma)) if conditioned else net, x, net.multiple).numpy()
        feeds = {"image": x.numpy()}
        if conditioned:
            feeds["sigma"] = sigma.reshape(batch, 1, 1, 1).numpy()
        got = session.run(["restored"], feeds)[0]
        assert got.shape == (batch, net.in_channels, h, w)
        assert np.abs(got - ref).max() < 1e-3
        assert np.abs(ref - x.numpy()).max() > 1e-2  # the network is not the identity
    assert check_onnx(net, path) < 1e-3


@pytest.mark.slow
def test_every_shipped_model_takes_odd_sizes_in_onnx(tmp_path):
    from restorekit.models import list_models

    for name in list_models():
        path = export_onnx(name, tmp_path / f"{name}.onnx")
        assert check_onnx(name, path, sizes=((201, 333), (37, 29))) < 1e-3, name


def test_sigma_is_per_image_in_the_batch(tmp_path):
    net = _model("fastunet")
    path = export_onnx(net, tmp_path / "m.onnx")
    x = np.repeat(np.random.default_rng(0).random((1, 3, 16, 24), dtype=np.float32), 2, axis=0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y = session.run(None, {"image": x, "sigma": np.array([0.05, 0.2], np.float32).reshape(2, 1, 1, 1)})[0]
    assert np.abs(y[0] - y[1]).max() > 1e-4
    np.testing.assert_allclose(y[1:], run_onnx(path, x[1:], 0.2), atol=1e-6)


@pytest.mark.parametrize("kind,inputs,multiple", [("fastunet", ["image", "sigma"], "8"), ("dncnn", ["image"], "1")])
def test_names_dynamic_axes_and_metadata(tmp_path, kind, inputs, multiple):
    net = _model(kind)
    path = export_onnx(net, tmp_path / "m.onnx", opset=17)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == inputs
    assert [o.name for o in proto.graph.output] == ["restored"]
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", net.in_channels, "height", "width"]
    meta = read_onnx_meta(path)
    assert meta["multiple"] == multiple and meta["channels"] == str(net.in_channels)
    assert meta["conditioned"] == ("true" if kind == "fastunet" else "false")
    assert proto.opset_import[0].version == 17
    assert net.training is False  # left as it was


def test_cli_exports_a_saved_model(run_cli, tmp_path):
    weights = save_weights(tmp_path / "m.safetensors", _model("fastunet"))
    code, out, err = run_cli("export", weights, "--format", "onnx", "-o", tmp_path / "out" / "m.onnx", "--check")
    assert code == 0, err
    assert "any H and W" in out and "max abs difference" in out
    assert float(out.rsplit(" ", 1)[-1]) < 1e-3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.onnx"]  # no temp file left
    before = (tmp_path / "out" / "m.onnx").read_bytes()
    code, _, err = run_cli("export", weights, "-o", tmp_path / "out" / "m.onnx")
    assert code == 1 and "--overwrite" in err and (tmp_path / "out" / "m.onnx").read_bytes() == before
    code, _, err = run_cli("export", weights, "-o", tmp_path / "out" / "m.onnx", "--opset", "99")
    assert code == 2 and "11<=x<=20" in err and "Traceback" not in err


@pytest.mark.parametrize("args,message", [
    (("no-such-model", "-o", "x.onnx"), "unknown model 'no-such-model'"),
    (("{w}", "-o", "x.txt"), "must end in .onnx"),
])
def test_cli_errors_are_one_line(run_cli, tmp_path, args, message):
    weights = save_weights(tmp_path / "m.safetensors", _model("dncnn"))
    args = [a.format(w=weights) if "{w}" in a else (tmp_path / a if a.endswith(("onnx", "txt")) else a) for a in args]
    code, _, err = run_cli("export", *args)
    assert code == 1 and err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.onnx")) and not list(tmp_path.glob(".x*"))


def test_missing_onnx_is_one_clear_line(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    weights = save_weights(tmp_path / "m.safetensors", _model("dncnn"))
    code, _, err = run_cli("export", weights, "-o", tmp_path / "m.onnx")
    assert code == 1 and err.strip() == "error: ONNX support needs the onnx package: pip install 'restorekit[onnx]'"
    with pytest.raises(RestorekitError, match="restorekit\\[onnx\\]"):
        export_onnx(_model("dncnn"), tmp_path / "m.onnx")
