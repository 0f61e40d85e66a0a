"""Where identification's demosaicking-trace threshold (``CFA_MIN``) comes from.

    python benchmarks/cfa_threshold.py            # all 432 CBSD432 training images, ~6 minutes here

A phone saves its photo as a fine JPEG, which erases most of the demosaicking traces that
weak camera noise leaves (the phase contrast of ``restorekit.identify``); clean photos hold
faint traces of their own camera. This prints, on the training images only (CBSD432, never a
test set), the phase contrast of clean images (its upper quantiles) and the share of images
whose contrast reaches each threshold (the camera test), clean and with weak camera noise behind a JPEG of
quality 95 or 98. ``CFA_MIN`` is the clean images' 99.5th percentile, rounded: the highest
of 8 non-camera noises on these images stays below it too (docs/realnoise.md).

Then, on the 12 images the real-noise model held out in training, what the automatic path
(``restorekit.denoise`` with no options) does with the same weak camera noise, with the
threshold before (1.07) and now: mean PSNR of the input and of the output, and how many
images it reads as camera.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CBSD432 = ROOT.parent / "shared" / "data" / "train" / "CBSD432"
WEAK = ("camera:0.0001+jpeg:95", "camera:0.0003+jpeg:95", "camera:0.001+jpeg:95", "camera:0.0003+jpeg:98")
THRESHOLDS = (1.03, 1.04, 1.05, 1.06, 1.07)
BEFORE = 1.07  # the threshold until the weak-camera case was found


def as_file(image: np.ndarray) -> np.ndarray:
    from restorekit.metrics import quantize8

    return quantize8(image).astype(np.float32) / 255


def contrasts(paths: list[Path]) -> dict[str, np.ndarray]:
    """Phase contrast of every image, clean and with each weak camera noise (seed: its index)."""
    import restorekit as rk
    from restorekit.identify.statistics import cfa_traces

    found = {spec: [] for spec in ("none", *WEAK)}
    for i, path in enumerate(paths):
        clean = rk.read_image(path)[0]
        for spec in found:
            image = clean if spec == "none" else as_file(rk.degrade(clean, spec, seed=i))
            found[spec].append(cfa_traces(image.astype(np.float64))[0])
    return {spec: np.array(values) for spec, values in found.items()}


def automatic(paths: list[Path], spec: str) -> tuple[float, float, int]:
    """Mean PSNR of input and automatic output, and how many were read as camera."""
    import restorekit as rk
    from restorekit.metrics import psnr

    rows = []
    for i, path in enumerate(paths):
        clean = rk.read_image(path)[0]
        noisy = as_file(rk.degrade(clean, spec, seed=i))
        choices = []  # what blind denoising decided, told through its explain callback
        restored = rk.denoise(noisy, explain=choices.append)
        rows.append((psnr(clean, noisy), psnr(clean, np.clip(restored, 0, 1)), choices[0].noise["kind"] == "camera"))
    before, after, camera = np.mean([r[0] for r in rows]), np.mean([r[1] for r in rows]), sum(r[2] for r in rows)
    return float(before), float(after), int(camera)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="training images, evenly spread (0: all)")
    args = parser.parse_args()

    import restorekit.identify
    from restorekit.data.folders import holdout
    from restorekit.identify import CFA_MIN
    from restorekit.io import list_images

    paths = list_images([CBSD432])
    if args.limit:
        paths = paths[:: max(1, len(paths) // args.limit)][: args.limit]
    found = contrasts(paths)
    q = np.quantile(found["none"], [0.95, 0.99, 0.995, 1.0])
    print(f"CBSD432, {len(paths)} training images: phase contrast of the clean images")
    print(f"  95 % {q[0]:.3f}   99 % {q[1]:.3f}   99.5 % {q[2]:.3f}   max {q[3]:.3f}")
    print("\nshare at or above each threshold (CFA_MIN now %.2f)" % CFA_MIN)
    print(f"{'threshold':>10s} " + " ".join(f"{spec:>22s}" for spec in found))
    for t in THRESHOLDS:
        print(f"{t:10.2f} " + " ".join(f"{np.mean(v >= t):22.3f}" for v in found.values()))

    held = holdout([CBSD432], 12)
    print(f"\nautomatic path on the {len(held)} images held out from the real-noise model's training")
    print(f"{'noise':24s} {'CFA_MIN':>7s} {'input':>7s} {'output':>7s} {'read as camera':>15s}")
    for spec in WEAK[:3]:
        for t in (BEFORE, CFA_MIN):
            restorekit.identify.CFA_MIN = t  # decide() reads it when called
            before, after, camera = automatic(held, spec)
            print(f"{spec:24s} {t:7.2f} {before:7.2f} {after:7.2f} {camera:>10d} of {len(held)}", flush=True)
    restorekit.identify.CFA_MIN = CFA_MIN


if __name__ == "__main__":
    main()
