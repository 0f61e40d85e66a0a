"""How well a real-noise model finds its own level (``calibrated_level``), on synthetic noise.

    python benchmarks/real_level.py [--model fastunet.color-real] [--images 12]
    python benchmarks/real_level.py --model fastunet.gray-real

The images are the training images the real-noise run held out (never trained on, never a
test set: ``holdout`` 12 of CBSD432 for colour, 8 of Train400 + CBSD432 as gray for gray,
as in ``configs/fastunet-*-real.json``), degraded by restorekit's own synthesis at
several kinds and strengths; for each, the true RMS of the noise (0-255 scale, after 8-bit
quantisation, as a file would hold it) beside the level the model finds blind, and what
denoising gains with that level against the level given. Prints one row per noise spec.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "train"
# channels -> (training folders, images held out): what configs/fastunet-{color,gray}-real.json hold out
HOLDOUT = {3: ([TRAIN / "CBSD432"], 12), 1: ([TRAIN / "Train400", TRAIN / "CBSD432"], 8)}
SPECS = ("camera:0.0002", "camera:0.001", "camera:0.004", "camera+jpeg:70-90", "gaussian:3", "gaussian:10", "poisson:100")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fastunet.color-real")
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()

    import restorekit as rk
    from restorekit.data.folders import holdout, to_channels
    from restorekit.infer import resolve_network
    from restorekit.infer.apply import calibrated_level
    from restorekit.metrics import psnr, quantize8
    from restorekit.seeds import derive_seed

    net = resolve_network(args.model)
    channels = net.in_channels
    dirs, count = HOLDOUT[channels]
    images = [to_channels(rk.read_image(p)[0], channels) for p in holdout(dirs, count)[: args.images]]
    images = [image[..., 0] if channels == 1 else image for image in images]
    print(f"{args.model} on {len(images)} held-out training images ({'+'.join(d.name for d in dirs)})")
    print(f"{'noise':20s} {'true RMS':>9s} {'found':>7s} {'ratio':>6s} {'PSNR blind':>11s} {'PSNR told true':>15s}")
    for spec in SPECS:
        rows = []
        for i, clean in enumerate(images):
            noisy = quantize8(rk.degrade(clean, spec, seed=derive_seed(0, "real-level", i))).astype(np.float32) / 255
            true = float(np.sqrt(np.mean((noisy - clean) ** 2)))
            found = calibrated_level(net, noisy)
            blind = psnr(clean, np.clip(rk.denoise(noisy, net), 0, 1))
            told = psnr(clean, np.clip(rk.denoise(noisy, net, true), 0, 1))
            rows.append((true * 255, found * 255, blind, told))
        t, f, b, g = np.mean(rows, axis=0)
        ratio = np.median([r[1] / r[0] for r in rows])
        print(f"{spec:20s} {t:9.2f} {f:7.2f} {ratio:6.2f} {b:11.2f} {g:15.2f}", flush=True)


if __name__ == "__main__":
    main()
