"""Reproduce the published DnCNN figures with restorekit's loader and ``denoise``.

    .venv/bin/python scripts/check_anchors.py [--sets Set12,BSD68] [--limit N]

Loads the reference weights in ../shared/anchors/weights (never shipped, never copied) with
``restorekit.load_model`` and follows the paper protocol of ../shared/data/README.md: per
image ``np.random.RandomState(0).normal(0, 25/255, shape)`` added to the 8-bit clean image
/ 255, not clipped; ``restorekit.denoise``; clip and round to 8 bits; PSNR (data range 255)
against the 8-bit clean image, averaged over images. Expected at sigma 25:

    BSD68: KAIR DnCNN-S-25 29.23 dB, SaoYan DnCNN-S-25 29.21 dB (the issue's anchors;
           measured 29.233 and 29.208, about 4 minutes each on 2 busy cores)
    Set12: KAIR DnCNN-S-25 30.432 dB (../shared/data/README.md)

It prints per-image PSNRs of the first images too: tests/test_anchors.py checks those.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANCHORS = {"kair": "kair_dncnn_25.pth", "saoyan": "saoyan_dncnn_S-25.pth"}
SIGMA = 25


def clean_images(folder: Path, limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The 8-bit gray images of a test folder, sorted by name."""
    from PIL import Image

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".bmp", ".tif"))
    return [(p.name, np.asarray(Image.open(p).convert("L"))) for p in paths[:limit]]


def paper_noisy(clean_u8: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """The paper's noisy image: float in [0, 1] plus N(0, sigma/255) seeded with 0, not clipped."""
    clean = clean_u8.astype(np.float32) / 255.0
    return (clean + np.random.RandomState(0).normal(0, sigma / 255.0, clean.shape)).astype(np.float32)


def psnr_u8(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def evaluate(model, images: list[tuple[str, np.ndarray]]) -> list[float]:
    """Per-image PSNR of ``model`` on the paper protocol at sigma 25."""
    import restorekit

    psnrs = []
    for _, clean in images:
        out = restorekit.denoise(paper_noisy(clean), model, sigma=SIGMA / 255.0)
        out_u8 = (np.clip(out, 0, 1) * 255.0 + 0.5).astype(np.uint8)
        psnrs.append(psnr_u8(out_u8, clean))
    return psnrs


def main(argv: list[str] | None = None) -> int:
    import torch

    import restorekit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="Set12,BSD68")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in args.sets.split(","):
        images = clean_images(SHARED / "data" / "test" / name, args.limit)
        for tag, file in ANCHORS.items():
            model = restorekit.load_model(SHARED / "anchors" / "weights" / file)
            start = time.perf_counter()
            psnrs = evaluate(model, images)
            secs = time.perf_counter() - start
            first = ", ".join(f"{p:.4f}" for p in psnrs[:3])
            print(f"{name:6s} {tag:6s} {np.mean(psnrs):.4f} dB over {len(psnrs)} images "
                  f"in {secs:.1f} s (first 3: {first})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
