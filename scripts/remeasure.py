"""Re-measure every published figure of a shipped Gaussian model after it was replaced.

    python scripts/remeasure.py gray --out runs/remeasure          # BSD68, Nam25 as gray
    python scripts/remeasure.py color --out runs/remeasure         # CBSD68, Nam25
    python scripts/remeasure.py color --dry-run                     # print the commands only

`scripts/ship_model.py` measures the test set (sigma given and blind) when a model ships;
the model by name can differ (the gray one runs with its low-level partner, measured here
first), and the other pages quote figures that depend on the same weights: the self-ensemble rows and
the automatic path's AWGN figures (docs/models.md, docs/realnoise.md) and the Gaussian
model's rows on Nam25's real photos (docs/realnoise.md). This runs those commands one after
another, each one's output into OUT/NAME.txt, so that none is forgotten. The speed and
memory figures come from `make bench`, the demo's verdicts from `make demo`.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "../shared/data/test"
SIGMAS = "gaussian:15,gaussian:25,gaussian:50"


def commands(which: str) -> dict[str, list[str]]:
    """``{output name: command}`` for the gray or colour model, in the order they run."""
    data = f"{TEST}/BSD68" if which == "gray" else f"{TEST}/CBSD68"
    model = f"fastunet.{which}"
    cli = [sys.executable, "-m", "restorekit", "evaluate"]
    paper = ["--data", data, "--noise", SIGMAS, "--protocol", "paper"]
    real = [sys.executable, "benchmarks/real_noise.py"]
    return {
        # by name, as users run it: for gray the pair with its low-level partner (LOW_LEVEL_MODELS)
        f"{which}-given": cli + ["--model", model, *paper],
        f"{which}-blind": cli + ["--model", model, *paper, "--blind"],
        f"{which}-x2": cli + ["--model", model, *paper, "--ensemble", "2"],
        f"{which}-x8": cli + ["--model", model, *paper, "--ensemble", "8"],
        f"{which}-auto": cli + ["--method", "auto", *paper, "--blind"],
        f"{which}-nam25": real + (["--gray", "--methods", "noisy,gaussian,gaussian-pd2,auto"] if which == "gray"
                                  else ["--methods", "noisy,gaussian,gaussian-pd2"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["gray", "color"])
    parser.add_argument("--out", type=Path, default=Path("runs/remeasure"))
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args()
    for name, cmd in commands(args.which).items():
        print(f"{name}: {shlex.join(cmd)}", flush=True)
        if args.dry_run:
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        with (args.out / f"{name}.txt").open("w") as log:
            code = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
        if code:
            sys.exit(f"error: {name} failed (exit {code}); its output: {args.out / f'{name}.txt'}")
        print(f"  -> {args.out / f'{name}.txt'}", flush=True)


if __name__ == "__main__":
    main()
