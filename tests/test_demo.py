"""The demo (``make demo``) end to end, on tiny crops so that it takes seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from restorekit import demo


def test_sample_images_ship_with_scikit_image():
    for name, dataset in demo.SAMPLES.items():
        image = demo.sample_image(name, 48)
        assert image.dtype == np.float32 and image.shape[:2] == (48, 48)
        assert image.ndim == (2 if dataset == "gray" else 3)
        assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.02


def test_demo_quick_end_to_end(tmp_path, capsys):
    # BM3D alone takes seconds even on 64x64 crops; `make demo` runs it, the test need not.
    methods = ["median", "nlm", "tv", "wavelet"]
    assert demo.main(["--out", str(tmp_path), "--quick", "--methods", ",".join(methods)]) == 0
    out = capsys.readouterr().out
    records = json.loads((tmp_path / "results.json").read_text())
    for dataset in ("gray", "color"):
        rows = {r["method"]: r for r in records if r["dataset"] == dataset}
        assert set(methods) <= set(rows), dataset
        assert all(r["images"] == 2 and r["noise"] == "gaussian:25" for r in rows.values())
        for name in methods:
            assert rows[name]["psnr"] > rows["noisy"]["psnr"] + 3, (dataset, name)
    assert "wavelet" in out and "PSNR" in out
    assert "| method |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((tmp_path / "clean").rglob("*.png"))) == len(demo.SAMPLES)
    assert len(list((tmp_path / "images" / "color" / "gaussian_25" / "noisy").glob("*.png"))) == 2


def test_demo_says_when_the_shipped_model_is_missing(tmp_path, capsys, monkeypatch):
    import restorekit.models

    monkeypatch.setattr(restorekit.models, "list_models", lambda: [])
    records = demo.run_demo(tmp_path, size=24, methods=["median"])
    out = capsys.readouterr().out
    assert "not available yet" in out
    assert {r.method for r in records} == {"noisy", "median"}


def test_demo_uses_the_shipped_model_when_present(tmp_path, capsys, monkeypatch):
    from restorekit.infer import network
    import restorekit.models
    from restorekit.models import create_model
    from restorekit.models.weights import save_weights

    # Stand in a tiny untrained network for the shipped one: what matters is that the demo
    # finds it, loads it and scores it beside the classical methods.
    for channels, name in ((1, "tiny.gray"), (3, "tiny.color")):
        save_weights(tmp_path / "w" / f"{name}.safetensors",
                     create_model("dncnn", channels=channels, depth=3, features=8))
    for channels, kind in ((1, "gray"), (3, "color")):
        monkeypatch.setitem(network.DEFAULT_MODELS, channels, str(tmp_path / "w" / f"tiny.{kind}.safetensors"))
    monkeypatch.setattr(restorekit.models, "list_models", lambda: [network.default_model(1), network.default_model(3)])
    records = demo.run_demo(tmp_path / "out", size=24, methods=["median"])
    assert {(r.dataset, r.method) for r in records} >= {("gray", "tiny.gray"), ("color", "tiny.color"),
                                                        ("gray", "tiny.gray x8"), ("color", "tiny.color x8")}
    assert "not available" not in capsys.readouterr().out


def test_demo_rejects_a_tiny_size(capsys):
    with pytest.raises(SystemExit):
        demo.main(["--size", "4"])


def test_the_demo_says_where_the_network_loses_to_bm3d():
    from restorekit.evaluate.benchmark import Record

    def record(method, psnrs):
        return Record(method=method, dataset="color", noise="gaussian:25", protocol="random", images=2,
                      psnr=sum(psnrs) / 2, ssim=0.9, seconds=0.1, megapixels_per_s=1.0,
                      names=["astronaut", "coffee"], psnrs=psnrs)

    lines = demo.compare_with_bm3d([record("noisy", [20.0, 20.0]), record("fastunet.color", [30.8, 31.0]),
                                    record("bm3d", [31.3, 30.5])])
    assert lines == ["color: fastunet.color is 0.00 dB above BM3D on average; below it on astronaut (-0.50 dB)"]
    lines = demo.compare_with_bm3d([record("fastunet.color", [31.8, 31.0]), record("bm3d", [31.3, 30.5])])
    assert lines == ["color: fastunet.color is 0.50 dB above BM3D on average, and above it on every image"]
