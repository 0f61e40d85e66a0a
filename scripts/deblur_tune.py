"""Fit the classical deblurring defaults on training images (never on test images).

Prints, for Wiener, the scale ``s`` of ``default_balance(sigma) = (sigma / s)^2`` and, for
Richardson-Lucy, ``ITERS_AT_1`` of ``iterations = ITERS_AT_1 / sigma_255``: each the median
over (image, kernel, noise) cases of the value that was best for that case. The constants in
restorekit/deblurring/wiener.py and richardson_lucy.py come from:

    .venv/bin/python scripts/deblur_tune.py --limit 40

Cases: the first ``--limit`` images of Train400 x Levin's 8 kernels x noise 2.55 and 7.65,
degraded by the paper protocol (circular blur, per-image RandomState(0) noise).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA / "train" / "Train400")
    parser.add_argument("--kernels", type=Path, default=DATA / "kernels" / "levin09.npz")
    parser.add_argument("--noise", default="2.55,7.65", help="noise levels, 0-255 scale")
    parser.add_argument("--limit", type=int, default=40, help="number of training images")
    parser.add_argument("--max-rl", type=int, default=200, help="RL iterations to try")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from restorekit.deblurring.richardson_lucy import richardson_lucy
    from restorekit.deblurring.wiener import TUNING_GRID, tuned_wiener
    from restorekit.degradations import load_kernel, paper_degrade
    from restorekit.io import list_images, read_image
    from restorekit.metrics import psnr, quantize8

    images = list_images([args.data])[: args.limit]
    with np.load(args.kernels) as npz:
        names = sorted(npz.files)
    levels = [float(v) for v in args.noise.split(",")]
    scales, iters = {lv: [] for lv in levels}, {lv: [] for lv in levels}
    for path in images:
        clean8 = quantize8(read_image(path)[0])  # the reference, as the papers read it
        clean = clean8.astype(np.float32) / 255
        for name in names:
            spec = f"{args.kernels}#{name}"
            kernel = load_kernel(spec)
            for level in levels:
                noisy = paper_degrade(clean, f"blur:{spec}+gaussian:{level}")
                _, balance = tuned_wiener(noisy, kernel, clean, grid=TUNING_GRID)
                scales[level].append(level / 255 / np.sqrt(balance))
                # RL: score every iteration count up to --max-rl in one run of 1-step calls.
                x, best = noisy, (-np.inf, 0)
                for n in range(1, args.max_rl + 1):
                    x = richardson_lucy(noisy, kernel, 1, init=x)
                    best = max(best, (psnr(clean8, quantize8(x), data_range=255), n))
                iters[level].append(best[1] * level)
        print(f"{path.name}: done", flush=True)
    for level in levels:
        print(f"noise {level}: Wiener s = {np.median(scales[level]):.4f}, RL ITERS_AT_1 = {np.median(iters[level]):.1f}")
    print(f"all: Wiener s = {np.median(sum(scales.values(), [])):.4f}, "
          f"RL ITERS_AT_1 = {np.median(sum(iters.values(), [])):.1f}")


if __name__ == "__main__":
    main()
