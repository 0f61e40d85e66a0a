"""Shared fixtures: small synthetic images, the shared data folder, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

# One thread: the suite runs beside other work on 2 cores, where oversubscribed threads
# make small convolutions 10-30x slower.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_ANCHORS = Path(__file__).resolve().parents[1].parent / "shared" / "anchors" / "weights"


def load_script(name: str):
    """A script of scripts/ (not a package) as a module, e.g. ``load_script("train_gpu")``."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_data(*parts: str) -> Path:
    """Path into ../shared/data, skipping the test with a clear message where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    return path


def shared_anchor(name: str) -> Path:
    path = SHARED_ANCHORS / name
    if not path.exists():
        pytest.skip(f"reference weights not found: {path}")
    return path


@pytest.fixture
def gray_image() -> np.ndarray:
    """A 37x31 float32 gray image in [0, 1] with structure (odd sizes on purpose)."""
    from skimage import data, transform

    img = data.camera().astype(np.float32) / 255.0
    return transform.resize(img, (37, 31), anti_aliasing=True).astype(np.float32)


@pytest.fixture
def color_image() -> np.ndarray:
    """A 37x31x3 float32 RGB image in [0, 1]."""
    from skimage import data, transform

    img = data.astronaut().astype(np.float32) / 255.0
    return transform.resize(img, (37, 31, 3), anti_aliasing=True).astype(np.float32)


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit_code, stdout, stderr)."""
    from restorekit.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return int(exc.value.code or 0), out, err

    return run
