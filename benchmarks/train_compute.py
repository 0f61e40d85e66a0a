"""Quality per unit of training compute, for several network sizes: which size to train.

    python benchmarks/train_compute.py [--minutes 20] [--widths 16,32,48,32r] [--jobs 2]

Each size is the shipped gray recipe (``configs/fastunet-gray.json``: Train400 + CBSD432 as
gray, sigma 0-75, 8 training images held out and validated on at sigma 25) with the
FastUNet's widths scaled (base width ``w``: widths ``w, 2w, 4w``; ``32r``: that size with
re-parameterisable blocks, folded for inference at the plain size's cost), trained for the same
``--minutes`` of one CPU thread (its steps sized by timing 20 of them first; cosine schedule
ending on time). ``--jobs`` runs train side by side, one thread each; compute is counted in
CPU seconds of the training process (``cpu_s`` in its log), so other work on the machine
does not move the curves. Then prints, measured
in this run: parameters, multiply-adds per pixel, inference time on a 512x512 image against
the 17-layer DnCNN's (random weights: speed only), steps, patches and the held-out PSNR
reached, and plots held-out PSNR against training minutes (``--figure``). Runs land in
``--out``/w{w}; a second call reuses finished runs (and resumes unfinished ones).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "fastunet-gray.json"


def size_config(size: str, out: Path):
    """The gray recipe at base width ``size`` ("32"; "32r": re-parameterisable blocks)."""
    from restorekit.train.config import TrainConfig

    cfg = TrainConfig.from_file(BASE)
    width, rep = int(size.rstrip("r")), size.endswith("r")
    data = tuple(str((ROOT / d).resolve()) for d in cfg.data)  # the config's paths are from the repository root
    return cfg.replace(arch_args={**cfg.arch_args, "widths": [width, 2 * width, 4 * width], "rep": rep}, data=data,
                       out=str(out / f"w{size}"))


def plan_runs(widths: list[str], minutes: float, out: Path) -> list[Path]:
    """Write each size's config (steps sized to ``minutes`` of CPU) unless it exists; return them."""
    from restorekit.train.trainer import seconds_per_step

    configs = []
    for width in widths:
        cfg = size_config(width, out)
        path = Path(cfg.out) / "plan.json"
        if not path.exists():
            per_step = seconds_per_step(cfg, 20, clock=time.process_time)
            steps = max(100, int(minutes * 60 / per_step))
            cfg = cfg.replace(steps=steps, warmup=min(cfg.warmup, steps // 10), val_every=max(50, steps // 8),
                              save_every=100)
            Path(cfg.out).mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cfg.to_dict(), indent=2))
            print(f"w{width}: {per_step:.3f} s/step -> {steps} steps in {minutes:g} min", flush=True)
        configs.append(path)
    return configs


def train_all(configs: list[Path], jobs: int) -> None:
    """``restorekit train`` on each config, ``jobs`` at a time, one thread each."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pending, running = list(configs), []
    while pending or running:
        while pending and len(running) < jobs:
            path = pending.pop(0)
            rundir = path.parent
            cfg = json.loads(path.read_text())
            if (rundir / "last.pt").exists():
                import torch

                if torch.load(rundir / "last.pt", weights_only=True)["step"] >= cfg["steps"]:
                    continue
                extra = ["--resume"]
            else:
                extra = ["--overwrite"]  # a folder holding only plan.json
            cmd = [sys.executable, "-m", "restorekit", "train", "--config", str(path), "--quiet", *extra]
            running.append(subprocess.Popen(cmd, env=env))
        for proc in list(running):
            if proc.poll() is not None:
                running.remove(proc)
                if proc.returncode:
                    raise SystemExit(f"training failed: {' '.join(proc.args)}")
        time.sleep(2)


def measure(widths: list[str], out: Path) -> list[dict]:
    import csv

    import torch
    from run import _timeit  # benchmarks/run.py, beside this script

    from restorekit.models import create_model
    from restorekit.models.complexity import macs_per_pixel, parameters

    def seconds(model) -> float:  # median of 3 after a warm-up, as `make bench` times
        x, s = torch.rand(1, 1, 512, 512), torch.full((1,), 25 / 255)
        with torch.inference_mode():
            return _timeit((lambda: model(x, s)) if getattr(model, "conditioned", False) else (lambda: model(x)), 3)

    reference = seconds(create_model("dncnn", channels=1, depth=17).eval())
    rows = []
    for width in widths:
        cfg = size_config(width, out)
        model = create_model("fastunet", channels=1, **cfg.arch_args).eval().fold()  # as it would ship
        log = [r for r in csv.DictReader((Path(cfg.out) / "log.csv").open()) if r["val_psnr"]]
        rows.append({"size": width, "width": int(width.rstrip("r")), "params_M": parameters(model) / 1e6, "kmacs_per_px": macs_per_pixel(model) / 1e3,
                     "speed_ratio": seconds(model) / reference, "steps": int(log[-1]["step"]),
                     "patches": int(log[-1]["patches"]), "minutes": float(log[-1]["cpu_s"]) / 60,
                     "psnr": float(log[-1]["val_psnr"]),
                     "curve": [(float(r["cpu_s"]) / 60, float(r["val_psnr"])) for r in log]})
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restorekit.atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for r in rows:
        minutes, psnr = zip(*r["curve"])
        ax.plot(minutes, psnr, marker="o", label=f"widths {r['width']}-{4 * r['width']}{' rep' if r['size'].endswith('r') else ''}: {r['params_M']:.2f} M "
                                                 f"params, {r['speed_ratio']:.2f}x DnCNN-17 time")
    ax.set_xlabel("training compute, CPU minutes")
    ax.set_ylabel("held-out PSNR, sigma 25 (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", default="16,32,48", help="base widths (32: the shipped size)")
    parser.add_argument("--minutes", type=float, default=20.0, help="training time per size (sized by a probe)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "runs" / "train-compute"))
    parser.add_argument("--figure", default=str(ROOT / "docs" / "train_compute.png"))
    args = parser.parse_args()
    widths, out = [w.strip() for w in args.widths.split(",") if w.strip()], Path(args.out)
    train_all(plan_runs(widths, args.minutes, out), args.jobs)
    rows = measure(widths, out)
    print(f"\n{'base width':>10s} {'params M':>9s} {'kMAC/px':>8s} {'time/DnCNN':>11s} {'steps':>6s} {'patches':>8s} "
          f"{'minutes':>8s} {'PSNR':>6s}")
    for r in rows:
        print(f"{r['size']:>10s} {r['params_M']:9.3f} {r['kmacs_per_px']:8.1f} "
              f"{r['speed_ratio']:11.3f} {r['steps']:6d} {r['patches']:8d} {r['minutes']:8.1f} {r['psnr']:6.2f}")
    plot(rows, Path(args.figure))
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
