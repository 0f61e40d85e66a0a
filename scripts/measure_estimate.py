"""Measure blind noise-level estimation against the truth, beside scikit-image's estimator.

Noise follows the paper protocol (per image ``np.random.RandomState(0)``, additive, not
clipped). Prints a Markdown table of mean absolute error and mean signed error (bias), in
0-255 units, and the mean seconds per image.

The estimator's constants (CONFIDENCE, ROUNDS, BIAS) were chosen on training images by
comparing a few settings with the overrides, e.g.

    .venv/bin/python scripts/measure_estimate.py --data ../shared/data/train/Train400 --every 4 \
        --confidence 0.999 --rounds 6 --bias 1.0

The tables in docs/classical.md come from:

    .venv/bin/python scripts/measure_estimate.py --data ../shared/data/train/Train400 \
        --data ../shared/data/train/CBSD432 --every 4
    .venv/bin/python scripts/measure_estimate.py --data ../shared/data/test/Set12 \
        --data ../shared/data/test/BSD68 --data ../shared/data/test/CBSD68
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _skimage_estimate(image: np.ndarray) -> float:
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(image, channel_axis=-1 if image.ndim == 3 else None, average_sigmas=True))


def _open(path: Path, gray: bool) -> Image.Image:
    image = Image.open(path)
    return image.convert("L") if gray else image


def main() -> None:
    from restorekit import estimate
    from restorekit.estimate import estimate_sigma

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, help="folder of clean 8-bit images (repeatable)")
    parser.add_argument("--sigmas", default="5,15,25,50,75", help="noise levels, 0-255 units")
    parser.add_argument("--every", type=int, default=1, help="every N-th image of each folder")
    parser.add_argument("--gray", action="store_true", help="convert colour images to gray")
    parser.add_argument("--confidence", type=float, help="override estimate.CONFIDENCE")
    parser.add_argument("--rounds", type=int, help="override estimate.ROUNDS")
    parser.add_argument("--bias", type=float, help="override estimate.BIAS")
    args = parser.parse_args()
    for name in ("confidence", "rounds", "bias"):
        if getattr(args, name) is not None:
            setattr(estimate, name.upper(), getattr(args, name))
    sigmas = [float(s) for s in args.sigmas.split(",")]
    estimators = {"restorekit": estimate_sigma, "skimage (wavelet MAD)": _skimage_estimate}

    print("| data | sigma | estimator | MAE | bias | s/image |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for folder in args.data:
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in {".png", ".jpg", ".bmp", ".tif"})
        files = files[:: args.every]
        clean = [np.asarray(_open(f, args.gray)).astype(np.float64) / 255 for f in files]
        for sigma in sigmas:
            noisy = [c + np.random.RandomState(0).normal(0, sigma / 255, c.shape) for c in clean]
            noisy = [n.astype(np.float32) for n in noisy]
            for name, fn in estimators.items():
                start = time.perf_counter()
                errors = np.array([fn(n) * 255 - sigma for n in noisy])
                seconds = (time.perf_counter() - start) / len(noisy)
                print(f"| {Path(folder).name} | {sigma:g} | {name} | {np.abs(errors).mean():.3f} "
                      f"| {errors.mean():+.3f} | {seconds:.3f} |", flush=True)


if __name__ == "__main__":
    main()
