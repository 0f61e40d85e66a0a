"""The file loop of denoise, deblur and degrade: --skip-existing, --workers, picklable tasks.

A tiny random model and 37x45 images keep each worker run a few seconds (most of it is the
workers starting: a fresh Python importing torch).
"""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
import torch

from restorekit.errors import DataLossWarning, ModelLoadError, RestorekitError
from restorekit.files import run_files
from restorekit.io import write_image
from restorekit.models import create_model
from restorekit.models.weights import save_weights
from restorekit.outputs import Job, plan_outputs
from restorekit.tasks import DeblurTask, DegradeTask, DenoiseTask


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    net = create_model("fastunet", channels=1, widths=[8, 16, 32], blocks=1)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # random everywhere: zero-initialised tails would make it the identity
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    return save_weights(tmp_path_factory.mktemp("model") / "tiny.safetensors", net, {"note": "test"})


def _images(folder, names=("a.png", "b.png", "c.png", "d.png"), corrupt=None):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:37, :45]
    for k, name in enumerate(names):
        clean = 0.5 + 0.3 * np.sin(xx / (4.0 + k)) * np.cos(yy / 7.0)
        write_image(folder / name, np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32))
    if corrupt:
        (folder / corrupt).write_bytes(b"not an image")
    return folder


def _stamps(folder):
    """name -> (inode, mtime in ns): a file written again gets a new inode (atomic rename)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_plan_skips_existing_outputs(tmp_path):
    src = _images(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"done before")
    plan = plan_outputs([src], out, skip_existing=True)
    assert [j.target.name for j in plan] == ["a.png", "c.png", "d.png"]
    assert plan.skipped == [Job(src / "b.png", out / "b.png")]
    assert plan_outputs([src], tmp_path / "new").skipped == []
    with pytest.raises(RestorekitError, match="b.png exists; pass --overwrite"):
        plan_outputs([src], out)
    # an output that is its own input is never taken for a finished one
    with pytest.raises(RestorekitError, match="is the input"):
        plan_outputs([src / "a.png"], src, skip_existing=True)
    with pytest.raises(RestorekitError, match="--skip-existing .* --overwrite"):
        plan_outputs([src], out, skip_existing=True, overwrite=True)


def test_skip_existing_continues_a_stopped_run(run_cli, tmp_path, model):
    src, out = _images(tmp_path / "in"), tmp_path / "out"
    args = ("denoise", src, "-o", out, "--model", model, "--sigma", "25")
    code, _, err = run_cli(*args)
    assert code == 0, err
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "b.png").unlink()  # as if the run had been stopped before b and d
    (out / "d.png").unlink()
    before = _stamps(out)

    code, stdout, err = run_cli(*args, "--skip-existing")
    assert code == 0, err
    after = _stamps(out)
    assert {n: after[n] for n in before} == before  # a and c untouched
    assert sorted(after) == ["a.png", "b.png", "c.png", "d.png"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # b and d as the full run wrote them
    lines = stdout.splitlines()
    assert lines[:2] == [f"{src / 'b.png'} -> {out / 'b.png'}", f"{src / 'd.png'} -> {out / 'd.png'}"]
    assert lines[2] == f"denoised 2 images -> {out} (2 skipped: output exists)"

    code, stdout, _ = run_cli(*args, "--skip-existing")  # all done: nothing to do, nothing written
    assert code == 0 and _stamps(out) == after
    assert stdout.splitlines() == [f"denoised 0 images -> {out} (4 skipped: output exists)"]


def test_skip_existing_and_overwrite_are_refused_together(run_cli, tmp_path):
    src = _images(tmp_path / "in", names=("a.png",))
    code, stdout, err = run_cli("degrade", src, "-o", tmp_path / "out", "--noise", "gaussian:25",
                                "--skip-existing", "--overwrite")
    assert code == 1 and stdout == ""
    assert err.strip() == ("error: --skip-existing keeps existing outputs, --overwrite replaces them; pass one")
    assert not (tmp_path / "out").exists()


def test_address_needs_the_ray_engine(run_cli, tmp_path):
    src = _images(tmp_path / "in", names=("a.png",))
    code, _, err = run_cli("degrade", src, "-o", tmp_path / "out", "--noise", "gaussian:25", "--address", "auto")
    assert code == 1 and err.strip() == "error: --address names a Ray cluster; add --engine ray"


def test_the_ray_engine_says_how_to_get_ray(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    src = _images(tmp_path / "in", names=("a.png",))
    code, _, err = run_cli("degrade", src, "-o", tmp_path / "out", "--noise", "gaussian:25", "--engine", "ray")
    assert code == 1 and err.strip() == "error: --engine ray needs Ray: pip install 'restorekit[ray]'"


def test_a_cluster_address_nothing_answers_on_is_one_line():
    from restorekit.cluster import _check_reachable

    _check_reachable("auto")  # Ray's own look-up: not checked here
    with pytest.raises(RestorekitError, match=r"^--address 127.0.0.1:1: cannot reach it \(Connection refused\)$"):
        _check_reachable("127.0.0.1:1")
    with pytest.raises(RestorekitError, match="expected auto, HOST:PORT or ray://HOST:PORT"):
        _check_reachable("ray://headnode")


def test_one_file_left_fails_with_the_summary(run_cli, tmp_path):
    src = _images(tmp_path / "in", names=("a.png",), corrupt="bad.png")
    out = tmp_path / "out"
    run_cli("degrade", src, "-o", out, "--noise", "gaussian:25")
    code, _, err = run_cli("degrade", src, "-o", out, "--noise", "gaussian:25", "--skip-existing")
    assert code == 1  # a folder was given: the summary still counts what was skipped
    assert err.splitlines()[-1] == f"error: 1 of 1 images failed (0 written to {out}, 1 skipped: output exists)"


@pytest.mark.parametrize("command", [
    ("denoise", "--sigma", "25"),
    ("deblur", "--kernel", "gaussian-1.6", "--method", "wiener"),  # the note: each file's estimated noise
    ("degrade", "--noise", "gaussian:25", "--seed", "3"),
])
def test_two_workers_write_what_one_writes(run_cli, tmp_path, model, command):
    src = _images(tmp_path / "in", corrupt="bad.png")
    extra = ("--model", model) if command[0] == "denoise" else ()
    if command[0] == "degrade":  # noise gives a GIF more than 256 colours: a warning, from the worker
        with pytest.warns(DataLossWarning):
            write_image(src / "e.gif", np.random.default_rng(1).random((20, 24, 3)).astype(np.float32))
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        code, stdout, err = run_cli(command[0], src, "-o", out, *command[1:], *extra, "--workers", workers)
        runs[workers] = (code, stdout.replace(str(out), "OUT"), err.replace(str(out), "OUT"),
                         {p.name: p.read_bytes() for p in out.iterdir()})
    assert runs["1"] == runs["2"]  # exit code, per-file lines and notes, errors, bytes of every output
    code, stdout, err, written = runs["2"]
    gif = command[0] == "degrade"
    assert code == 1 and sorted(written) == ["a.png", "b.png", "c.png", "d.png"] + ["e.gif"] * gif
    assert err.splitlines() == [f"error: {src / 'bad.png'}: cannot read image (not a PNG, JPEG, TIFF, "
                                "BMP, GIF or WebP file)"] + [
        "warning: OUT/e.gif: GIF holds 256 colours per frame; the frames are quantized"] * gif + [
        f"error: 1 of {5 + gif} images failed ({4 + gif} written to OUT)"]
    assert stdout.splitlines()[0].startswith(f"{src / 'a.png'} -> OUT/a.png")
    if command[0] == "deblur":
        assert "(wiener, noise " in stdout and "estimated)" in stdout


def test_a_model_that_cannot_load_stops_the_workers(tmp_path):
    src = _images(tmp_path / "in", names=("a.png", "b.png"))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    jobs = plan_outputs([src], tmp_path / "out")
    with pytest.raises(ModelLoadError, match="bad.safetensors"):
        run_files(jobs, DenoiseTask(model=str(bad)), workers=2)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_tasks_travel_and_say_their_note(tmp_path, gray_image):
    tasks = [DenoiseTask(model="fastunet.gray", sigma=0.1, tile=64), DeblurTask("motion-9-30", method="wiener"),
             DegradeTask("gaussian:25", seed=4)]
    for task in tasks:
        assert pickle.loads(pickle.dumps(task)) == task
    job = Job(tmp_path / "a.png", tmp_path / "out" / "a.png")
    deblur, degrade = tasks[1], tasks[2]
    deblur.check()
    assert deblur(gray_image, job).shape == gray_image.shape
    note = deblur.note(job)  # the level estimated for that image, kept until asked once
    assert note.startswith("wiener, noise ") and note.endswith(" estimated") and deblur.note(job) == ""
    assert degrade.note(job) == "gaussian:25, seed 4"
    with pytest.raises(RestorekitError, match="--model is pnp's denoiser"):
        DeblurTask("motion-9-30", method="rl", model="fastunet.gray").check()


def test_unpicklable_process_still_runs_in_one_worker(tmp_path):
    src = _images(tmp_path / "in", names=("a.png", "b.png"))
    jobs = plan_outputs([src], tmp_path / "out")
    assert run_files(jobs, lambda image, job: 1 - image, note=lambda job: "inverted") == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
