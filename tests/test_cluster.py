"""``--engine ray`` and ``restorekit.cluster.run_on_ray`` on a local Ray instance of 2 CPUs.

Slow (Ray starts in ~10 s, each run starts its actors): ``make test-slow`` or ``pytest -m slow``.
Outputs must be byte for byte those of the local run and of ``--workers 2``; a stopped run
continued with ``--skip-existing`` computes only the missing outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorekit.io import write_image
from restorekit.models import create_model
from restorekit.models.weights import save_weights

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")]  # Ray Data's own settings
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'restorekit[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024, logging_level="warning")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    net = create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    return save_weights(tmp_path_factory.mktemp("model") / "tiny.safetensors", net, {"note": "test"})


@pytest.fixture
def folder(tmp_path):
    """in/: five gray images, a 16-bit TIFF, and a file that is not an image."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:37, :45]
    src = tmp_path / "in"
    for k in range(5):
        clean = 0.5 + 0.3 * np.sin(xx / (4.0 + k)) * np.cos(yy / 7.0)
        write_image(src / f"im{k}.png", np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32))
    write_image(src / "deep.tif", rng.random((33, 40)).astype(np.float32), dtype=np.uint16)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return src


def _run(run_cli, src, out, model, *extra):
    code, stdout, err = run_cli("denoise", src, "-o", out, "--model", model, "--sigma", "25", *extra)
    return code, stdout.replace(str(out), "OUT"), err.replace(str(out), "OUT")


def _contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_ray_writes_what_the_local_run_writes(run_cli, local_ray, folder, tmp_path, model):
    runs = {name: _run(run_cli, folder, tmp_path / name, model, *extra)
            for name, extra in [("local", ()), ("workers", ("--workers", "2")), ("ray", ("--engine", "ray"))]}
    code, stdout, err = runs["ray"]
    assert code == 1
    assert f"error: {folder / 'broken.png'}: " in err  # reported, and the rest written
    assert err.splitlines()[-1] == "error: 1 of 7 images failed (6 written to OUT)"
    assert stdout.splitlines() == [f"{folder / n} -> OUT/{n}" for n in
                                   ["deep.tif", "im0.png", "im1.png", "im2.png", "im3.png", "im4.png"]]
    assert runs["local"] == runs["workers"] == runs["ray"]  # the same lines, in the same order
    outputs = {name: _contents(tmp_path / name) for name in runs}
    assert len(outputs["ray"]) == 6
    assert outputs["local"] == outputs["workers"] == outputs["ray"]  # byte for byte


def test_ray_continues_a_stopped_run(run_cli, local_ray, folder, tmp_path, model):
    (folder / "broken.png").unlink()
    out = tmp_path / "out"
    assert _run(run_cli, folder, out, model, "--engine", "ray")[0] == 0
    full = _contents(out)
    for name in ("im1.png", "deep.tif"):  # as if the run had been stopped before these
        (out / name).unlink()
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}

    code, stdout, err = _run(run_cli, folder, out, model, "--engine", "ray", "--skip-existing")
    assert code == 0, err
    assert stdout.splitlines() == [f"{folder / 'deep.tif'} -> OUT/deep.tif", f"{folder / 'im1.png'} -> OUT/im1.png",
                                   "denoised 2 images -> OUT (4 skipped: output exists)"]
    now = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    assert {name: now[name] for name in kept} == kept  # only the two missing outputs were written
    assert _contents(out) == full


def test_run_on_ray_from_python(local_ray, folder, tmp_path):
    from restorekit.cluster import run_on_ray
    from restorekit.files import Silent
    from restorekit.outputs import plan_outputs
    from restorekit.tasks import DeblurTask

    class Lines(Silent):
        def __init__(self):
            self.lines = []

        def done(self, job, note):
            self.lines.append((job.source.name, note))

    jobs = plan_outputs([folder], tmp_path / "sharp")
    reporter = Lines()
    failures = run_on_ray(jobs, DeblurTask("gaussian-1.6", method="wiener"), reporter, workers=2)
    assert [(job.source.name, reason.split(":")[0]) for job, reason in failures] == \
        [("broken.png", str(folder / "broken.png"))]
    assert [name for name, _ in reporter.lines] == ["deep.tif", "im0.png", "im1.png", "im2.png", "im3.png", "im4.png"]
    # the note is made where the image was: each file's own estimated noise level
    assert all(note.startswith("wiener, noise ") and note.endswith(" estimated") for _, note in reporter.lines)
    assert len({note for _, note in reporter.lines}) > 1


def test_warnings_in_actors_are_shown_by_the_command(run_cli, local_ray, tmp_path):
    from restorekit.errors import DataLossWarning

    src = tmp_path / "in"
    with pytest.warns(DataLossWarning):  # noise gives a GIF more than 256 colours
        write_image(src / "e.gif", np.random.default_rng(1).random((20, 24, 3)).astype(np.float32))
    out = tmp_path / "out"
    code, stdout, err = run_cli("degrade", src, "-o", out, "--noise", "gaussian:25", "--engine", "ray")
    assert code == 0, err
    assert f"warning: {out / 'e.gif'}: GIF holds 256 colours per frame; the frames are quantized" in err.splitlines()
