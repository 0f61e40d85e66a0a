"""Training feedback: a progress bar on a terminal, plain lines otherwise, and a CSV log."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

# elapsed_s: wall-clock seconds of training, cpu_s: the training processes' CPU seconds, all
# threads (the compute spent, whatever else the machine was doing); both carry on across resumes.
# With a moving average of the weights (train.ema) val_psnr is the average's, val_raw the model's.
FIELDS = ["step", "patches", "loss", "lr", "val_psnr", "patches_per_s", "elapsed_s", "cpu_s", "val_raw"]


class CsvLog:
    """RUNDIR/log.csv; on resume, rows after the resumed step are dropped so the log stays exact.

    ``spent`` is the (elapsed_s, cpu_s) of the last row kept: the time already spent, which
    the resumed run adds its own to.
    """

    def __init__(self, path: Path, resume_step: int | None = None):
        self.path = Path(path)
        rows = []
        if resume_step is not None and self.path.exists():
            with self.path.open(newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        self.spent = (float(rows[-1]["elapsed_s"] or 0), float(rows[-1]["cpu_s"] or 0)) if rows else (0.0, 0.0)
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, **row) -> None:
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, FIELDS).writerow({k: row.get(k, "") for k in FIELDS})


class Progress:
    """Rich progress bar when stderr is a terminal; else one line every ``every`` steps."""

    def __init__(self, total: int, start: int, enabled: bool = True, every: int = 50):
        self.total, self.every = total, every
        self.enabled = enabled
        self.bar = None
        self.t0 = time.time()
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn

            self.bar = RichProgress(
                TextColumn("train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[info]}"), TimeRemainingColumn(), transient=False,
            )
            self.bar.start()
            self.task = self.bar.add_task("train", total=total, completed=start, info="")

    def update(self, step: int, info: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=step, info=info)
        elif step % self.every == 0 or step == self.total:
            print(f"step {step}/{self.total}  {info}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
