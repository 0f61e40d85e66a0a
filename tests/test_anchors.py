"""The published DnCNN weights through load_model + denoise reproduce the paper's figures.

The full check (Set12 and BSD68, a few minutes on 2 cores) is ``scripts/check_anchors.py``;
it gave BSD68 sigma 25: KAIR 29.233 dB, SaoYan S-25 29.208 dB (paper: 29.23, 29.21) and
Set12: KAIR 30.432 dB. This test runs the same code on Set12's first three images and
compares per-image PSNRs with the figures that full run printed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import shared_anchor, shared_data

import restorekit

# per-image PSNR (dB) on Set12 01-03, sigma 25, paper protocol, from scripts/check_anchors.py
EXPECTED = {
    "kair_dncnn_25.pth": [30.2076, 33.1008, 30.8202],
    "saoyan_dncnn_S-25.pth": [30.1505, 32.9985, 30.7534],
}


def _script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "check_anchors.py"
    spec = importlib.util.spec_from_file_location("check_anchors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_set12_first_images_match_the_full_run(name):
    script = _script()
    images = script.clean_images(shared_data("test", "Set12"), limit=3)
    model = restorekit.load_model(shared_anchor(name))
    psnrs = script.evaluate(model, images)
    assert psnrs == pytest.approx(EXPECTED[name], abs=2e-3)


def test_paper_noise_is_seeded_per_image_and_unclipped():
    import numpy as np

    script = _script()
    clean = np.full((8, 9), 255, np.uint8)
    a, b = script.paper_noisy(clean), script.paper_noisy(clean)
    assert np.array_equal(a, b) and a.max() > 1.0  # same draw for every image; not clipped
    expected = 1.0 + np.random.RandomState(0).normal(0, 25 / 255, (8, 9))
    assert np.allclose(a, expected, atol=1e-6)
