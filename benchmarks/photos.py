"""Two Gaussian models side by side on photographs that are no benchmark, to decide a ship.

    python benchmarks/photos.py fastunet.gray runs/fastunet-gray-long
    python benchmarks/photos.py fastunet.color runs/fastunet-color-more
    python benchmarks/photos.py fastunet.gray runs/a --heldout runs/a   # that run's held-out images

A new run replaces a shipped model only if it is better on images neither was trained or
validated on and that no published table uses: the photographs that ship inside
scikit-image's wheel (gray: camera, moon, coins, brick, grass, gravel, text and the
colour ones as luma; colour: astronaut, coffee, chelsea, rocket, immunohistochemistry,
retina). Noise as the published tables make it (``paper_degrade``: seed 0 per image, no
clipping), sigma given. Prints the PSNR of each model per image and sigma, then the mean
difference (second minus first) per sigma and on how many images the second is higher.

``--heldout RUN`` compares on a training run's held-out images instead (its ``config.json``:
the data folders and ``holdout`` count, the same every-k-th choice the trainer made), at
several sigmas where the run itself validated at one: what a change of the noise levels
drawn in training did at each level, on images no run was trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

GRAY = ("camera", "moon", "coins", "brick", "grass", "gravel", "text")
COLOUR = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "retina")


def photos(channels: int) -> dict[str, np.ndarray]:
    """scikit-image's photographs as float32 in [0, 1], gray (luma of the colour ones too) or RGB."""
    from skimage import data
    from skimage.color import rgb2gray

    images = {}
    for name in (GRAY + COLOUR) if channels == 1 else COLOUR:
        image = getattr(data, name)()
        image = image[..., :3] if image.ndim == 3 else image
        image = image.astype(np.float32) / 255
        images[name] = rgb2gray(image).astype(np.float32) if channels == 1 and image.ndim == 3 else image
    return images


def heldout(run: Path, channels: int) -> dict[str, np.ndarray]:
    """The images a training run held out (never trained on), float32 in [0, 1]."""
    import json

    from restorekit.data.folders import ImageFolder, holdout

    config = json.loads((run / "config.json").read_text())
    if not config.get("holdout"):
        raise SystemExit(f"error: {run} held out no training images (its config has no holdout)")
    paths = holdout(config["data"], config["holdout"])
    folder = ImageFolder(paths, channels=channels, cache_mb=0)
    return {path.name: folder[i][..., 0] if channels == 1 else folder[i] for i, path in enumerate(folder.paths)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", help="a shipped name, a run folder or a .safetensors file")
    parser.add_argument("second")
    parser.add_argument("--sigmas", default="15,25,50")
    parser.add_argument("--heldout", type=Path, metavar="RUN", help="a run's held-out training images instead")
    args = parser.parse_args()

    import restorekit as rk
    from restorekit.degradations.paper import paper_degrade
    from restorekit.infer import resolve_network
    from restorekit.metrics import psnr

    nets = [resolve_network(m) for m in (args.first, args.second)]
    channels = nets[0].in_channels
    if nets[1].in_channels != channels:
        raise SystemExit("error: the two models take different channels")
    sigmas = [float(s) for s in args.sigmas.split(",")]
    images = heldout(args.heldout, channels) if args.heldout else photos(channels)
    print(f"{'image':22s} {'sigma':>5s} {Path(args.first).name:>20s} {Path(args.second).name:>20s} {'diff':>6s}")
    diffs = {s: [] for s in sigmas}
    for name, clean in images.items():
        for s in sigmas:
            noisy = paper_degrade(clean, f"gaussian:{s:g}")
            a, b = (psnr(clean, rk.denoise(noisy, net, s / 255)) for net in nets)
            diffs[s].append(b - a)
            print(f"{name:22s} {s:5g} {a:20.2f} {b:20.2f} {b - a:+6.2f}", flush=True)
    print()
    for s in sigmas:
        d = np.array(diffs[s])
        print(f"sigma {s:g}: second minus first {d.mean():+.3f} dB on average, higher on {int((d > 0).sum())} of {len(d)}")


if __name__ == "__main__":
    main()
