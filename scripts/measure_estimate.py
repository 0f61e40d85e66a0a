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


def _skimage_estimate(image: np.ndarray) -> float:
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(image, channel_axis=-1 if image.ndim == 3 else None, average_sigmas=True))


def _read8(path: Path, gray: bool) -> np.ndarray:
    """The clean image as 8 bits (gray: BT.601 luma, as training reads it), float64 in [0, 1]."""
    from restorekit.data import to_channels
    from restorekit.io import read_image
    from restorekit.metrics import quantize8

    image = read_image(path)[0]
    if gray:
        image = to_channels(image, 1)[..., 0]
    return quantize8(image).astype(np.float64) / 255


def main() -> None:
    from restorekit import estimate
    from restorekit.degradations import paper_degrade
    from restorekit.estimate import estimate_sigma
    from restorekit.io import list_images

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
        files = list_images([folder])[:: args.every]
        clean = [_read8(f, args.gray) for f in files]
        for sigma in sigmas:
            noisy = [paper_degrade(c, f"gaussian:{sigma}") for c in clean]  # float32
            for name, fn in estimators.items():
                start = time.perf_counter()
                errors = np.array([fn(n) * 255 - sigma for n in noisy])
                seconds = (time.perf_counter() - start) / len(noisy)
                print(f"| {Path(folder).name} | {sigma:g} | {name} | {np.abs(errors).mean():.3f} "
                      f"| {errors.mean():+.3f} | {seconds:.3f} |", flush=True)


if __name__ == "__main__":
    main()
