"""Plot validation PSNR against patches seen for one or more training runs.

    python scripts/plot_training.py runs/fastunet-gray runs/fastunet-color -o docs/training_curve.png
    python scripts/plot_training.py docs/training/fastunet.color-32k.csv -o curve.png

Reads each run's log.csv (written by `restorekit train`; a run folder or the CSV itself, as
`scripts/ship_model.py` keeps it under docs/training/) and prints the curve as a table too.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def curve(run: Path) -> list[tuple[int, float]]:
    with (run if run.suffix == ".csv" else run / "log.csv").open(newline="") as f:
        return [(int(r["patches"]), float(r["val_psnr"])) for r in csv.DictReader(f) if r["val_psnr"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()

    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restorekit.atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4))
    for run in args.runs:
        points = curve(run)
        label = run.stem if run.suffix == ".csv" else run.name
        print(f"{label}: " + ", ".join(f"{p / 1000:.0f}k: {v:.2f}" for p, v in points))
        ax.plot([p / 1000 for p, _ in points], [v for _, v in points], marker="o", label=label)
    ax.set_xscale("log", base=2)  # PSNR grows about linearly in log(patches): the trend to extrapolate
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("training patches seen (thousands, log scale)")
    ax.set_ylabel("validation PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(args.out) as tmp:
        fig.savefig(tmp, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
