"""Hostile inputs through every command and the Python API (issue 15, "Nothing lost").

The corpus (tests/hostile_corpus.py) is generated here, at test time. For every command:
exit code 0 or 1 and never a traceback, one ``error:`` line per refused file plus the
summary, no output (nor temporary file) for a refused file, the inputs byte for byte as
they were, and for every file written: the input's bit depth, channels, alpha, pages and
metadata (EXIF make / model / orientation, ICC, DPI), as an independent probe reads them.
Then the one-line user errors of the API and the CLI, each naming its option and value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import restorekit as rk
from hostile_corpus import COMMANDS, build, digests, probe
from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.models import create_model, load_model
from restorekit.models.weights import save_weights


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(root, cases, digests before, tiny random models by channels): built once for the module."""
    root = tmp_path_factory.mktemp("hostile")
    cases = build(root / "corpus")
    models = {}
    for channels in (1, 3):
        net = create_model("fastunet", channels=channels, widths=[8, 16, 32], blocks=1)
        gen = torch.Generator().manual_seed(channels)
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
        models[channels] = save_weights(root / "models" / f"tiny{channels}.safetensors", net, {"note": "test"})
    return root, cases, digests(root / "corpus"), models


def _check_run(root, cases, before, code, out, err, outdir, command, pick=lambda case: True):
    """The rules every file command keeps, on one run over ``cases`` (those ``pick`` takes)."""
    chosen = [c for c in cases if pick(c)]
    refused = [c for c in chosen if c.refuses(command)]
    assert "Traceback" not in err and code == (1 if refused else 0), err
    errors = [line for line in err.splitlines() if line.strip() and not line.startswith(("warning:", "note:"))]
    assert all(line.startswith("error: ") for line in errors), err
    if refused:  # the summary closes the run
        assert errors.pop() == f"error: {len(refused)} of {len(chosen)} images failed " \
                               f"({len(chosen) - len(refused)} written to {outdir})", err
    assert len(errors) == len(refused), err  # one line per refused file, none for the others
    for case in chosen:
        said = [line for line in errors if f"/{case.name}:" in line]
        target = outdir / case.name
        if case.refuses(command):
            assert len(said) == 1, (case.name, err)
            assert case.refused.get(command, "") in said[0], said[0]
            assert not target.exists(), case.name
        else:
            assert not said and target.is_file(), (case.name, err)
            assert probe(target) == {**probe(root / "corpus" / case.name), **case.changes}, case.name
    assert not [p.name for p in outdir.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert digests(root / "corpus") == before  # no input overwritten


def _files(root, cases, pick=lambda case: True):
    return [root / "corpus" / c.name for c in cases if pick(c)]


def _alpha(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))[..., 3]


def _durations(path):
    from PIL import Image

    with Image.open(path) as im:
        return [(im.seek(i), im.info.get("duration"))[1] for i in range(im.n_frames)]


@pytest.mark.parametrize("gray", [True, False], ids=["gray", "colour"])
def test_denoise_every_file(run_cli, corpus, gray):
    root, cases, before, models = corpus
    pick = lambda c: c.gray == gray  # noqa: E731 - a model per channel count
    outdir = root / f"denoise-{gray}"
    result = run_cli("denoise", *_files(root, cases, pick), "-o", outdir, "--model", models[1 if gray else 3],
                     "--sigma", "25")
    _check_run(root, cases, before, *result, outdir, "denoise", pick)
    if not gray:  # alpha comes back bit for bit; a float range is not clipped
        import tifffile

        for name in ("rgba.png", "palette-trns.png"):
            assert np.array_equal(_alpha(root / "corpus" / name), _alpha(outdir / name)), name

        assert tifffile.imread(outdir / "hdr.tif").max() > 100


def test_deblur_every_file(run_cli, corpus):
    root, cases, before, _ = corpus
    outdir = root / "deblur"
    result = run_cli("deblur", *_files(root, cases), "-o", outdir, "--method", "wiener",
                     "--kernel", "gaussian-1.6", "--sigma", "2")
    _check_run(root, cases, before, *result, outdir, "deblur")
    assert _durations(root / "corpus" / "anim.png") == _durations(outdir / "anim.png") == [100, 200, 300]
    assert np.array_equal(_alpha(root / "corpus" / "la.png"), _alpha(outdir / "la.png"))


@pytest.mark.parametrize("protocol", ["random", "paper"])
def test_degrade_every_file(run_cli, corpus, protocol):
    root, cases, before, _ = corpus
    outdir = root / f"degrade-{protocol}"
    result = run_cli("degrade", *_files(root, cases), "-o", outdir, "--noise", "gaussian:25",
                     "--protocol", protocol)
    _check_run(root, cases, before, *result, outdir, "degrade")


@pytest.mark.slow  # starts two worker processes (torch imported in each): some seconds
def test_two_workers_keep_the_rules(run_cli, corpus):
    root, cases, before, _ = corpus
    outdir = root / "degrade-workers"
    result = run_cli("degrade", *_files(root, cases), "-o", outdir, "--noise", "gaussian:25", "--workers", "2")
    _check_run(root, cases, before, *result, outdir, "degrade")


@pytest.mark.parametrize("command", ["denoise", "deblur"])
def test_nan_fill_puts_the_nan_back(run_cli, corpus, command):
    import tifffile

    root, _, before, models = corpus
    src, outdir = root / "corpus" / "nan.tif", root / f"{command}-fill"
    extra = ("--model", models[1], "--sigma", "25") if command == "denoise" else ("--kernel", "gaussian-1.6")
    code, _, err = run_cli(command, src, "-o", outdir, "--nan", "fill", *extra)
    assert code == 0, err
    given, got = tifffile.imread(src), tifffile.imread(outdir / "nan.tif")
    assert got.dtype == np.float32 and np.array_equal(given[~np.isfinite(given)], got[~np.isfinite(given)],
                                                      equal_nan=True)
    assert np.isfinite(got[np.isfinite(given)]).all() and digests(root / "corpus") == before


def test_evaluate_each_file(run_cli, corpus):
    root, cases, before, _ = corpus
    for case in cases:
        code, _, err = run_cli("evaluate", "--method", "median", "--data", root / "corpus" / case.name,
                               "--noise", "gaussian:25")
        lines = [line for line in err.splitlines() if line.strip()]
        assert "Traceback" not in err and code == (1 if case.refuses("evaluate") else 0), (case.name, err)
        if code:
            assert len(lines) == 1 and lines[0].startswith("error: ") and case.name in lines[0], err
            assert case.refused.get("evaluate", "") in lines[0], err
    assert digests(root / "corpus") == before


def test_default_shipped_model(run_cli, corpus):
    root, cases, before, _ = corpus
    case = next(c for c in cases if c.name == "exif.jpg")
    outdir = root / "shipped"
    result = run_cli("denoise", root / "corpus" / case.name, "-o", outdir, "--sigma", "25")
    _check_run(root, cases, before, *result, outdir, "denoise", lambda c: c is case)


def test_identify_every_file(run_cli, corpus):
    import importlib.util

    from restorekit.cli import main as cli_main

    if importlib.util.find_spec("restorekit.cli.identify") is None or "identify" not in cli_main.COMMANDS:
        pytest.skip("restorekit identify is not there yet")
    root, cases, before, _ = corpus
    code, _, err = run_cli("identify", *_files(root, cases))
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert "Traceback" not in err and code in (0, 1), err
    for case in cases:  # at most one line per file, and one for each broken file
        said = len([line for line in errors if f"/{case.name}:" in line])
        assert said == 1 if case.kind == "broken" else said <= 1, (case.name, err)
    assert digests(root / "corpus") == before


def test_export_with_bad_arguments(run_cli, corpus, tmp_path):
    root, _, before, _ = corpus
    (tmp_path / "text.pth").write_text("not a checkpoint")
    for args, expected in [
        (("no-such-model", "-o", tmp_path / "x.onnx"), "no-such-model"),
        (("fastunet.gray", "-o", root / "corpus" / "exif.png"), "exists"),
        (("fastunet.gray", "-o", root / "corpus"), "is a folder"),
        (("fastunet.gray", "-o", tmp_path / "y.onnx", "--opset", "5"), "--opset"),
        ((tmp_path / "text.pth", "-o", tmp_path / "z.onnx"), "text.pth"),
    ]:
        code, _, err = run_cli("export", *args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code in (1, 2) and len(lines) == 1 and lines[0].startswith("error: "), err
        assert expected in lines[0] or "onnx" in lines[0], err  # a missing onnx package is one line too
    assert digests(root / "corpus") == before


def test_python_api_on_every_file(corpus):
    root, cases, before, models = corpus
    nets = {c: load_model(models[c]) for c in (1, 3)}
    calls = {
        "denoise": lambda image: rk.denoise(image, nets[1 if image.ndim == 2 else 3], sigma=0.1),
        "deblur": lambda image: rk.deblur(image, "gaussian-1.6", sigma=0.01, method="wiener"),
        "degrade": lambda image: rk.degrade(image, "gaussian:25"),
    }
    for case in cases:
        path = root / "corpus" / case.name
        if case.kind == "broken":
            for read in (rk.read_image, rk.read_stack):
                with pytest.raises(RestorekitError, match=case.name):
                    read(path)
            continue
        image, info = rk.read_image(path)
        pages, _ = rk.read_stack(path)
        assert info.pages == len(pages) == probe(path)["pages"] and np.array_equal(pages[0], image, equal_nan=True)
        for command, call in calls.items():
            if case.refuses(command):
                with pytest.raises(RestorekitError, match=case.refused[command]) as caught:
                    call(image)
                assert "\n" not in str(caught.value)
            else:
                assert call(image).shape == image.shape, (case.name, command)
    assert all(set(c.refused) <= set(COMMANDS) for c in cases) and digests(root / "corpus") == before


# ---------------------------------------------------------------------------------------
# one line per user error, naming the option and the value


_IMG = np.linspace(0, 1, 24 * 32, dtype=np.float32).reshape(24, 32)
_NAN = np.where(np.arange(24 * 32).reshape(24, 32) == 5, np.nan, _IMG).astype(np.float32)


@pytest.mark.parametrize("call, match", [
    (lambda: rk.denoise(_IMG, tile="64"), r"tile .*'64'"),
    (lambda: rk.degrade(_IMG, 25), r"spec must be a string .*25 \(int\)"),
    (lambda: rk.degrade(np.zeros((8, 8), np.int32), "gaussian:25"), "int32"),
    (lambda: rk.degrade(_IMG, "gaussian:1e9"), r"'1e9' .*0-255"),
    (lambda: rk.degrade(_NAN, "gaussian:25"), "1 non-finite"),
    (lambda: rk.deblur(_NAN, "gaussian-1.6", method="wiener"), "1 non-finite.*nan='fill'"),
    (lambda: rk.deblur(_IMG, "gaussian-1.6", method="wiener", nan="maybe"), "nan .*'maybe'"),
], ids=["tile", "spec-type", "int32", "1e9", "degrade-nan", "deblur-nan", "deblur-nan-policy"])
def test_api_errors_are_one_line(call, match):
    with pytest.raises(RestorekitError, match=match) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_api_device_cuda_on_a_cpu_build():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here")
    with pytest.raises(RestorekitError, match="device 'cuda'") as caught:
        rk.denoise(_IMG, device="cuda")
    assert "\n" not in str(caught.value)


def test_exponent_notation_and_fill_keeps_nan():
    assert rk.parse_spec("gaussian:2.5e1").spec == "gaussian:25"
    assert rk.parse_spec("gaussian:1e-3-2e-3").spec == "gaussian:0.001-0.002"
    out = rk.deblur(_NAN, "gaussian-1.6", sigma=0.01, method="wiener", nan="fill")
    assert np.isnan(out.flat[5]) and np.isfinite(np.delete(out.ravel(), 5)).all()


def _one_line(err: str, *words) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert all(w in lines[0] for w in words), (words, lines[0])
    return lines[0]


def test_cli_errors_are_one_line(run_cli, tmp_path):
    import tempfile as _tempfile

    src = rk.write_image(tmp_path / "a.png", _IMG)
    (tmp_path / "x.npy").write_text("this is text, not numbers\n")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    torch.save(torch.nn.Conv2d(1, 1, 3), tmp_path / "module.pth")
    out = tmp_path / "out"
    code, _, err = run_cli("denoise", src, "-o", out, "--tile", "abc")
    assert code == 2 and _one_line(err, "--tile", "abc")
    code, _, err = run_cli("degrade", src, "-o", out, "--noise", "gaussian:1e9")
    assert code == 1 and _one_line(err, "1e9", "0-255")
    code, _, err = run_cli("deblur", src, "-o", out, "--kernel", tmp_path / "x.npy", "--method", "wiener")
    assert code == 1 and _one_line(err, "--kernel", "x.npy")
    for checkpoint in ("text.pth", "module.pth"):
        code, _, err = run_cli("denoise", src, "-o", out, "--model", tmp_path / checkpoint)
        assert code == 1 and "weights_only" not in _one_line(err, checkpoint)
    if not torch.cuda.is_available():
        code, _, err = run_cli("denoise", src, "-o", out, "--device", "cuda", "--sigma", "25")
        assert code == 1 and _one_line(err, "cuda")
    blocked = tmp_path / "file"
    blocked.write_text("a file where a folder should be")
    code, _, err = run_cli("degrade", src, "-o", blocked / "sub", "--noise", "gaussian:5")
    assert code == 1 and _one_line(err, f"cannot write {blocked / 'sub' / 'a.png'}")
    # a read-only folder (as root, permissions do not bind: the refusal is simulated)
    def refuse(*args, dir=None, prefix="", suffix="", **kwargs):
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}tmp123{suffix}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_tempfile, "mkstemp", refuse)
        code, _, err = run_cli("degrade", src, "-o", out, "--noise", "gaussian:5")
    line = _one_line(err, f"cannot write {out / 'a.png'}", "Permission denied")
    assert code == 1 and "tmp123" not in line and not list(out.glob("*"))


def test_a_failed_write_names_the_file_not_the_temporary(tmp_path):
    from restorekit.atomic import atomic_path

    target = tmp_path / "out.png"
    with pytest.raises(OSError, match=f"cannot write {target}: No space left") as caught:
        with atomic_path(target) as tmp:
            raise OSError(28, "No space left on device", str(tmp))
    assert ".out." not in str(caught.value) and not list(tmp_path.iterdir())


def test_debug_shows_the_real_cause(run_cli, capsys, tmp_path):
    from restorekit.cli.main import main

    src = rk.write_image(tmp_path / "a.png", _IMG)
    (tmp_path / "bad.png").write_text("not an image")
    torch.save(torch.nn.Conv2d(1, 1, 3), tmp_path / "module.pth")
    with pytest.raises(ModelLoadError) as caught:  # --debug: the exception itself, with its cause
        main(["--debug", "denoise", str(src), "-o", str(tmp_path / "o1"), "--model", str(tmp_path / "module.pth")])
    assert "weights_only" in str(caught.value.__cause__)  # torch's own words, only under --debug
    with pytest.raises(RestorekitError):  # several files: each failure's traceback, then the summary
        main(["--debug", "degrade", str(src), str(tmp_path / "bad.png"), "-o", str(tmp_path / "o2"),
              "--noise", "gaussian:5"])
    err = capsys.readouterr().err
    assert "Traceback" in err and "UnidentifiedImageError" in err and "bad.png failed" in err
    code, _, err = run_cli("degrade", src, tmp_path / "bad.png", "-o", tmp_path / "o3", "--noise", "gaussian:5")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 2
