"""Choose the constants of the classical methods on training images (never on a test set).

Every classical method's parameters are functions of sigma with one or two constants (see
restorekit/classical/*.py). This script grid-searches those constants on a subset of
Train400 with the paper's noise protocol (per image ``np.random.RandomState(0)``, additive
Gaussian, not clipped; output clipped and rounded to 8 bits; PSNR against the 8-bit clean
image), picks the point with the best mean PSNR over all images and sigmas, and prints a
Markdown table. It also shows the best grid point for each sigma alone, which tells how
much the one-rule-for-all-sigmas costs. BM3D has nothing to tune.

    .venv/bin/python scripts/tune_classical.py            # about 4 minutes on one core

The chosen constants are written by hand into the method modules (each points back here)
and the output is kept in docs/classical.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: the tuning must not crowd others

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

# method -> {constructor argument: grid}
GRIDS: dict[str, dict[str, list]] = {
    "median": {"radius_per_sigma": [0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.10]},
    "gaussian": {
        "std_at_25": [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6],
        "exponent": [0.25, 0.5, 0.75, 1.0],
    },
    "bilateral": {"color_per_sigma": [1.0, 1.5, 2.0, 2.5, 3.0, 4.0], "spatial_at_25": [1.0, 1.5, 2.0, 2.5]},
    "wavelet": {
        "wavelet": ["db1", "db2", "db4", "sym4", "sym8", "coif1", "coif2"],
        "sigma_scale": [0.75, 1.0, 1.25, 1.5],
    },
    "tv": {"weight_per_sigma": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2], "exponent": [0.0, 0.25, 0.5]},
    "nlm": {"h_per_sigma": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2], "patch_size": [5, 7]},
}


def load_subset(folder: Path, count: int) -> list[np.ndarray]:
    """``count`` images spread evenly over the sorted folder, as 8-bit gray arrays."""
    from restorekit.data import to_channels
    from restorekit.errors import RestorekitError
    from restorekit.io import list_images, read_image
    from restorekit.metrics import quantize8

    try:
        files = list_images([folder])
    except RestorekitError as exc:
        raise SystemExit(str(exc)) from None
    step = max(1, len(files) // count)
    return [quantize8(to_channels(read_image(f)[0], 1)[..., 0]) for f in files[::step][:count]]


def score(method, clean8: list[np.ndarray], noisy: dict[float, list[np.ndarray]]) -> dict[float, float]:
    """Mean PSNR per sigma (paper protocol) of one configured method."""
    from restorekit.metrics import psnr, quantize8

    return {
        sigma: float(np.mean([psnr(c, quantize8(method(n, sigma / 255))) for c, n in zip(clean8, images)]))
        for sigma, images in noisy.items()
    }


def main() -> None:
    from restorekit.classical import get_method
    from restorekit.degradations import paper_degrade

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/train/Train400"))
    parser.add_argument("--images", type=int, default=20, help="images spread over the folder")
    parser.add_argument("--sigmas", default="15,25,50", help="noise levels, 0-255 units")
    parser.add_argument("--methods", default=",".join(GRIDS))
    args = parser.parse_args()

    sigmas = [float(s) for s in args.sigmas.split(",")]
    clean8 = load_subset(args.data, args.images)
    # Clean in float64 (c / 255), as the constants were tuned; evaluate's float32 differs below 1e-7.
    noisy = {s: [paper_degrade(c / 255, f"gaussian:{s}") for c in clean8] for s in sigmas}
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in GRIDS]
    if unknown:
        parser.error(f"no grid for {', '.join(unknown)}; known: {', '.join(GRIDS)}")

    rows = []
    for name in methods:
        grid = GRIDS[name]
        method_class = type(get_method(name))  # built again below with each grid point
        start = time.perf_counter()
        results = []  # (constants, {sigma: psnr})
        for values in itertools.product(*grid.values()):
            constants = dict(zip(grid, values))
            results.append((constants, score(method_class(**constants), clean8, noisy)))
        best_constants, best = max(results, key=lambda r: np.mean(list(r[1].values())))
        per_sigma_best = {s: max(results, key=lambda r: r[1][s]) for s in sigmas}
        rows.append((name, best_constants, best, per_sigma_best))
        seconds = time.perf_counter() - start
        print(f"{name}: {_fmt(best_constants)}  ({len(results)} points, {seconds:.0f} s)", flush=True)

    print(f"\n{len(clean8)} images of {args.data.name}, paper-protocol noise; PSNR in dB, mean over images.\n")
    head = " | ".join(f"σ={s:g}" for s in sigmas)
    print(f"| method | chosen constants | {head} | mean | best per σ alone (constants) |")
    print("| --- | --- | " + " | ".join("---:" for _ in sigmas) + " | ---: | --- |")
    for name, constants, best, per_sigma in rows:
        cells = " | ".join(f"{best[s]:.2f}" for s in sigmas)
        alone = "; ".join(f"{per_sigma[s][1][s]:.2f} ({_fmt(per_sigma[s][0])})" for s in sigmas)
        print(f"| {name} | {_fmt(constants)} | {cells} | {np.mean(list(best.values())):.2f} | {alone} |")


def _fmt(constants: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in constants.items())


if __name__ == "__main__":
    main()
