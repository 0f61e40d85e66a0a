"""How much the border handling matters on images that were NOT blurred circularly.

Real photographs: the blur at the frame's edge came from outside it. Imitated here by
blurring a whole Set12 512x512 image (scipy ``reflect``), then cutting out its central
200x200, then adding paper-protocol noise. Each method runs with ``border="circular"`` (as
if the image wrapped around) and ``border="pad"`` (the default; docs/deblurring.md).
Prints a Markdown table of the PSNR in the 20-pixel band along the edges and inside it.

    .venv/bin/python scripts/deblur_borders.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BAND = 20  # pixels along each edge scored apart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="pnp's denoiser (default: shipped)")
    parser.add_argument("--noise", type=float, default=2.55, help="0-255 scale")
    parser.add_argument("--kernels", type=Path, default=DATA / "kernels" / "levin09.npz")
    parser.add_argument("--methods", default="pnp,wiener,rl")
    args = parser.parse_args()

    import scipy.ndimage as ndi
    import torch

    torch.set_num_threads(1)
    from restorekit.deblurring.methods import DeblurRestorer
    from restorekit.degradations import load_kernel, paper_degrade
    from restorekit.io import list_images, read_image
    from restorekit.metrics import quantize8

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    restorers = {m: DeblurRestorer(m, model=args.model if m == "pnp" else None) for m in methods}
    images = [p for p in list_images([DATA / "test" / "Set12"]) if read_image(p)[0].shape == (512, 512)]
    with np.load(args.kernels) as npz:
        kernel_names = sorted(npz.files)
    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for path in images:
        scene = quantize8(read_image(path)[0]).astype(np.float64) / 255
        for name in kernel_names:
            kernel = load_kernel(f"{args.kernels}#{name}")
            crop = (slice(156, 356), slice(156, 356))
            clean = scene[crop]
            blurred = ndi.convolve(scene, kernel, mode="reflect")[crop]
            noisy = paper_degrade(blurred, f"gaussian:{args.noise}")  # RandomState(0) noise, float32
            for method, restorer in restorers.items():
                for border in ("circular", "pad"):
                    out = restorer(noisy, args.noise / 255, kernel=kernel, circular=border == "circular")
                    scores.setdefault((method, border), []).append(_band_psnr(clean, out))
        print(f"{path.name}: done", flush=True)

    print(f"\n{len(images)} Set12 images (200x200 centre crops) x {len(kernel_names)} kernels, "
          f"noise {args.noise:g}; PSNR (dB) in the {BAND}-pixel edge band and inside it:\n")
    print("| method | border | edge band | inside |\n|---|---|---|---|")
    for (method, border), values in scores.items():
        edge, inner = np.mean(values, axis=0)
        print(f"| {method} | {border} | {edge:.2f} | {inner:.2f} |")


def _band_psnr(clean: np.ndarray, restored: np.ndarray) -> tuple[float, float]:
    """PSNR of the 8-bit images in the ``BAND``-pixel frame along the edges, and inside it.

    Inside is ``psnr(..., crop=BAND)``. The frame is no rectangle, which is all that
    ``restorekit.metrics.psnr`` scores, so its pixels go in as one 1xN row: the same mean
    squared error, so the same value as a masked PSNR.
    """
    from restorekit.metrics import psnr, quantize8

    clean8, out8 = quantize8(clean), quantize8(restored)
    band = np.ones(clean8.shape, bool)
    band[BAND:-BAND, BAND:-BAND] = False
    edge = psnr(clean8[band][None], out8[band][None], data_range=255)  # [1, N] frame pixels
    return edge, psnr(clean8, out8, data_range=255, crop=BAND)


if __name__ == "__main__":
    main()
