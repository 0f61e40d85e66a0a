"""The figures of docs/realnoise.md: real noisy photos (no reference) side by side, and strength.

    python scripts/real_noise_figures.py --out docs

1. ``real_noise.png``: a detailed 160x160 crop of a few RNI15 and DND33 images (real camera
   noise, no clean reference): the noisy input, the Gaussian model blind, the Gaussian model
   with pixel-shuffle down-sampling (``--pd 2``), and ``restorekit denoise``'s automatic
   choice (the real-noise model where identification finds camera noise).
2. ``strength.png``: one crop denoised by the automatic choice at strength 0.5, 1, 1.5 and 2
   (``--strength``: the noise level the model is told, scaled).

Every panel is a call of ``restorekit.denoise``, as a user would make it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEST = ROOT.parent / "shared" / "data" / "test"
PICKS = [("RNI15", "Dog.png"), ("RNI15", "Frog.png"), ("DND33", "03_noise.png"), ("DND33", "11_noise.png")]
CROP = 160


def panels(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    import restorekit as rk

    gaussian = rk.default_model(1 if image.ndim == 2 else 3)
    return [
        ("noisy", image),
        (f"{gaussian}, blind", rk.denoise(image, gaussian)),
        (f"{gaussian}, --pd 2", rk.denoise(image, gaussian, pd=2)),
        ("automatic", rk.denoise(image)),
    ]


def grid(rows: list[list[tuple[str, np.ndarray]]], path: Path, titles_on_first_row_only: bool = False) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from restorekit.atomic import atomic_path

    n_rows, n_cols = len(rows), len(rows[0])
    fig = Figure(figsize=(2.4 * n_cols, 2.5 * n_rows + 0.3), dpi=100)
    FigureCanvasAgg(fig)
    for r, row in enumerate(rows):
        for c, (title, image) in enumerate(row):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1)
            ax.imshow(np.clip(image, 0, 1), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_axis_off()
            if r == 0 or not titles_on_first_row_only:
                ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.6)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()

    import restorekit as rk
    from restorekit.evaluate.figure import detail_crop

    rows, first = [], None
    for folder, name in PICKS:  # whole images restored, as a user would; a detailed crop shown
        image = rk.read_image(TEST / folder / name)[0]
        ys, xs = detail_crop(image, CROP)
        rows.append([(f"{folder}/{name}" if title == "noisy" else title, out[ys, xs]) for title, out in panels(image)])
        if first is None:
            first = (image, ys, xs)
    out = Path(args.out)
    grid(rows, out / "real_noise.png")
    image, ys, xs = first
    strengths = [("noisy", image[ys, xs])] + [(f"strength {s:g}", rk.denoise(image, strength=s)[ys, xs])
                                             for s in (0.5, 1, 1.5, 2)]
    grid([strengths], out / "strength.png")
    print(f"wrote {out / 'real_noise.png'} and {out / 'strength.png'}")


if __name__ == "__main__":
    main()
