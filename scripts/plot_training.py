"""Plot validation PSNR against patches seen (or CPU time) for one or more training runs.

    python scripts/plot_training.py runs/fastunet-gray runs/fastunet-color -o docs/training_curve.png
    python scripts/plot_training.py docs/training/fastunet.color-32k.csv -o curve.png
    python scripts/plot_training.py --cpu runs/stage-a runs/stage-b -o stages.png --label A --label B

With ``--cpu`` the x axis is the CPU time the training process used (``cpu_s`` in its log,
which other work on the machine does not move), on a linear scale: the way to compare two
ways of spending the same compute.

Reads each run's log.csv (written by `restorekit train`; a run folder or the CSV itself, as
`scripts/ship_model.py` keeps it under docs/training/) and prints the curve as a table too.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def curve(run: Path, x: str = "patches") -> list[tuple[float, float]]:
    """(``x``, validation PSNR) at each validated step; ``x`` is a column of the log.

    Logs written before the time columns carried on across a resume start them again from
    zero there: such a drop is added back, so that time keeps counting up.
    """
    points, offset, previous = [], 0.0, 0.0
    with (run if run.suffix == ".csv" else run / "log.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            raw = float(r[x])
            if raw < previous:  # the clock started again at a resume: what it had counted comes first
                offset += previous
            previous = raw
            if r["val_psnr"]:
                points.append((offset + raw, float(r["val_psnr"])))
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--cpu", action="store_true", help="x axis: CPU minutes, not patches seen")
    parser.add_argument("--label", action="append", dest="labels",
                        help="legend name of a run, once per run in order (default: the runs' names)")
    args = parser.parse_args()
    names = [run.stem if run.suffix == ".csv" else run.name for run in args.runs]
    if args.labels:
        names = args.labels
        if len(names) != len(args.runs):
            parser.error(f"{len(names)} --label for {len(args.runs)} runs")

    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restorekit.atomic import atomic_path

    many = len(args.runs) > 4  # then the legend goes under the plot, where it hides no curve
    fig, ax = plt.subplots(figsize=(6, 4 + 0.22 * len(args.runs) if many else 4))
    for run, label in zip(args.runs, names):
        if args.cpu:
            points = [(x / 60, v) for x, v in curve(run, "cpu_s")]
            print(f"{label}: " + ", ".join(f"{x:.0f} min: {v:.2f}" for x, v in points))
        else:
            points = [(x / 1000, v) for x, v in curve(run)]
            print(f"{label}: " + ", ".join(f"{x:.0f}k: {v:.2f}" for x, v in points))
        ax.plot([x for x, _ in points], [v for _, v in points], marker="o", label=label)
    if args.cpu:
        ax.set_xlabel("training CPU minutes")
    else:  # PSNR grows about linearly in log(patches): the trend to extrapolate
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("training patches seen (thousands, log scale)")
    ax.set_ylabel("validation PSNR (dB)")
    ax.grid(alpha=0.3)
    if many:
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), fontsize="small", frameon=False)
    else:
        ax.legend()
    fig.tight_layout()
    with atomic_path(args.out) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
