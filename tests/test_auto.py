"""Blind denoising that knows the noise: the choice by kind, and the self-calibrated level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorekit.infer import auto
from restorekit.infer.apply import SELF_CALIBRATED, calibrated_level, noise_level


@pytest.fixture
def scene():
    from skimage import data, transform

    img = data.astronaut().astype(np.float32) / 255
    return transform.resize(img, (128, 128, 3), anti_aliasing=True).astype(np.float32)


def test_white_gaussian_noise_goes_to_the_gaussian_model_with_its_level(scene):
    noisy = scene + np.random.default_rng(0).normal(0, 25 / 255, scene.shape).astype(np.float32)
    choice = auto.choose(noisy)
    assert choice.method == "fastunet.color" and choice.pd == 1
    assert abs(choice.sigma * 255 - 25) < 3 and choice.noise["kind"] == "gaussian"


def test_impulses_go_to_the_median_filter(scene):
    from restorekit.degradations import degrade

    choice = auto.choose(degrade(scene, "saltpepper:0.1", seed=0))
    assert choice.method == "median" and "salt-and-pepper" in choice.reason


def test_camera_noise_goes_to_the_real_model_when_installed(scene, monkeypatch):
    from restorekit.degradations import degrade

    noisy = np.clip(degrade(scene, "camera:0.004", seed=0), 0, 1)
    monkeypatch.setattr(auto, "real_model", lambda channels: None)
    without = auto.choose(noisy)
    if without.noise["kind"] not in auto.REAL_KINDS:
        pytest.skip(f"identified as {without.noise['kind']} on this small crop")
    assert without.method == "fastunet.color" and without.pd == 2
    monkeypatch.setattr(auto, "real_model", lambda channels: "real.model")
    assert auto.choose(noisy).method == "real.model"


class _Oracle(torch.nn.Module):
    """Removes the part of a known noise that the level it is told covers (a model trained
    to be told the RMS behaves like this): the residual's RMS is min(told, true)."""

    in_channels, multiple, conditioned = 1, 1, True

    def __init__(self, clean: torch.Tensor, true: float):
        super().__init__()
        self.clean, self.true = clean, true
        self.meta = {"blind_level": SELF_CALIBRATED}
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, sigma):
        keep = (1 - sigma.reshape(-1, 1, 1, 1) / self.true).clamp(min=0)
        return self.clean + (x - self.clean) * keep


def test_the_self_calibrated_level_finds_the_noise_rms():
    rng = np.random.default_rng(0)
    clean = rng.random((64, 64)).astype(np.float32)
    noisy = clean + rng.normal(0, 6 / 255, clean.shape).astype(np.float32)
    net = _Oracle(torch.from_numpy(clean)[None, None], true=float(np.std(noisy - clean)))
    level = calibrated_level(net, noisy)
    assert abs(level * 255 - 6) < 0.3
    assert noise_level(net, noisy, None, strength=2.0) == pytest.approx(2 * level)
    assert noise_level(net, noisy, 0.1) == pytest.approx(0.1)  # a given level wins
