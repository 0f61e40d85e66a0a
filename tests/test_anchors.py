"""The published DnCNN weights, through restorekit's own evaluation, reproduce the paper.

The full check is one command per set (the paper protocol of ../shared/data/README.md):

    restorekit evaluate --model ../shared/anchors/weights/kair_dncnn_25.pth \\
        --data ../shared/data/test/BSD68 --noise gaussian:25 --protocol paper

It gave BSD68 sigma 25: KAIR 29.233 dB, SaoYan S-25 29.208 dB (paper: 29.23, 29.21) and
Set12: KAIR 30.432 dB. This test runs the same library code (``evaluate`` with the paper
protocol and a foreign checkpoint) on Set12's first three images and compares per-image
PSNRs with the figures of that full run.
"""

from __future__ import annotations

import pytest
from conftest import shared_anchor, shared_data

# per-image PSNR (dB) on Set12 01-03, sigma 25, paper protocol, from the full run
EXPECTED = {
    "kair_dncnn_25.pth": [30.2076, 33.1008, 30.8202],
    "saoyan_dncnn_S-25.pth": [30.1505, 32.9985, 30.7534],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_set12_first_images_match_the_full_run(name):
    from restorekit.evaluate.benchmark import evaluate, resolve_method
    from restorekit.io import list_images

    images = list_images([shared_data("test", "Set12")])[:3]
    records = evaluate([resolve_method(f"model:{shared_anchor(name)}")], images, "gaussian:25", protocol="paper")
    assert records[1].psnrs == pytest.approx(EXPECTED[name], abs=2e-3)
