"""Train every shipped model to a long schedule on one GPU, within a time budget: one command.

On the GPU machine (no internet; its own python3 with torch), from the repository root,
with the training images carried in `.device/data` (``make device-data`` puts them there):

    PYTHONPATH=. python3 scripts/train_gpu.py --data .device/data --out $OUT/gpu --minutes 8
    PYTHONPATH=. python3 scripts/train_gpu.py --data .device/data --out $OUT/gpu --from-shipped \
        --models fastunet.gray,fastunet.color --minutes 8

For each shipped model it takes the recipe in ``configs/`` (noise, holdout validation) with
the architecture of the weights that ship now (a model built on another, as the real-noise
ones on the Gaussian ones, starts from the run this call trained), scales it to the GPU
(``--batch-size`` patches of ``--patch-size``, bf16 autocast and channels-last, which
``restorekit train`` uses on CUDA), measures a few steps to turn its share of the time
budget into a step count (so the schedule ends on time), and
trains. The schedule is "wsd" (the rate held, then decayed over the last fifth): a later
GPU session extends a run exactly with ``restorekit train --out OUT/<model> --resume
--steps MORE`` (it goes on from the run's ``stable.pt``). Everything lands in
``OUT/<model>/`` (config.json, log.csv, last.pt, best.safetensors) plus ``OUT/recipe.json``
with the measured speeds. A run that finds its folder already there resumes it (same
config), so a second call after an interruption finishes the job.

``--from-shipped`` trains the Gaussian models on from the weights that ship now, with the
recipe of their last stage (``configs/fastunet-gray-176.json``,
``configs/fastunet-color-slim.json``: psnr loss, 176x176 and 160x160 patches, lr 1e-4 before
``--lr-scale``, and a moving average of the weights, ``--ema 0.999``, validated and kept)
instead of from scratch: a few GPU minutes per model
are fewer patches than the CPU stages behind the shipped weights gave them, so that is the
way to add to them rather than start over. Back here, ship a run
with ``scripts/ship_model.py OUT/<model> NAME``.

Smoke test on the CPU (``tests/test_train_gpu.py`` runs it): ``--device cpu --smoke``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# shipped name -> (config, training folders under --data, config that goes on from the shipped weights)
RECIPES = {
    "fastunet.gray": ("configs/fastunet-gray.json", ["Train400", "CBSD432"], "configs/fastunet-gray-176.json"),
    # the gray model's low-level partner (sigma 0-30): built on the gray model, going on from itself
    "fastunet.gray-low": ("configs/fastunet-gray-low.json", ["Train400", "CBSD432"], "configs/fastunet-gray-low.json"),
    "fastunet.color": ("configs/fastunet-color.json", ["CBSD432"], "configs/fastunet-color-slim.json"),
    "fastunet.gray-real": ("configs/fastunet-gray-real.json", ["Train400", "CBSD432"], None),
    "fastunet.color-real": ("configs/fastunet-color-real.json", ["CBSD432"], None),
}
SCRATCH_PATCH = 96  # --patch-size when it is not given, from scratch (going on: the stage's own)
# --ema when it is not given, going on from the shipped weights: the average keeps their level
# while the rate is at its peak (configs/fastunet-gray-176-5.json: 28.96 dB held-out, the
# trained weights 28.92), so a short run does not first undo what they had
EMA_GOING_ON = 0.999


def plan(name: str, args, data: Path):
    """The model's training config, scaled to the device (steps still to be sized)."""
    from restorekit.train.config import TrainConfig

    config, folders, stage = RECIPES[name]
    going_on = bool(args.from_shipped and stage)
    cfg = TrainConfig.from_file(ROOT / (stage if going_on else config))
    if going_on:  # from the shipped weights, in their own architecture
        cfg = cfg.replace(init_from=name, arch_args={})
    elif cfg.init_from:  # built on another model: the one this call trained, where it did
        base = Path(args.out) / cfg.init_from
        start = str(base) if (base / "best.safetensors").exists() else cfg.init_from
        cfg = cfg.replace(init_from=start, arch_args={})  # {}: the starting model's architecture
    else:  # from scratch: the architecture that ships now
        cfg = cfg.replace(arch_args=shipped_arch_args(name))
    patch = args.patch_size or (cfg.patch_size if going_on else SCRATCH_PATCH)
    return cfg.replace(data=tuple(str(data / f) for f in folders), out=str(Path(args.out) / name),
                       device=args.device, batch_size=args.batch_size, patch_size=patch,
                       lr=cfg.lr * args.lr_scale, warmup=args.warmup, val_every=args.val_every,
                       save_every=args.save_every, cache_mb=4096, schedule="wsd", decay=0.2,
                       ema=args.ema if args.ema is not None else (EMA_GOING_ON if going_on else cfg.ema))


def shipped_arch_args(name: str) -> dict:
    """The architecture arguments of the shipped weights ``name`` (their channels aside)."""
    meta = json.loads((ROOT / "restorekit" / "weights" / f"{name}.json").read_text())
    return {k: v for k, v in meta["arch_args"].items() if k != "channels"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/train", help="folder holding Train400/ and CBSD432/")
    parser.add_argument("--out", required=True, help="output folder for every run")
    parser.add_argument("--models", default=",".join(RECIPES), help="comma-separated shipped names")
    parser.add_argument("--minutes", type=float, default=8.0, help="training time for all models together")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--patch-size", type=int,
                        help=f"patch side (default {SCRATCH_PATCH}; with --from-shipped the stage config's: 176 gray, 160 colour)")
    parser.add_argument("--from-shipped", action="store_true",
                        help="Gaussian models: train on from the shipped weights with their last stage's recipe")
    parser.add_argument("--ema", type=float,
                        help=f"moving average of the weights, decay per step (default {EMA_GOING_ON} with --from-shipped, else the config's; 0: off)")
    parser.add_argument("--lr-scale", type=float, default=2.0, help="peak lr = the config's times this")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--val-every", type=int, default=2000)
    parser.add_argument("--save-every", type=int, default=500)
    parser.add_argument("--smoke", action="store_true", help="a few steps of tiny batches (CPU test)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size, args.patch_size, args.warmup, args.val_every, args.save_every = 2, 32, 1, 2, 2

    import torch

    from restorekit.errors import RestorekitError
    from restorekit.train.trainer import seconds_per_step, train

    data, out = Path(args.data), Path(args.out)
    names = [n for n in args.models.split(",") if n]
    unknown = sorted(set(names) - set(RECIPES))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    record_path = out / "recipe.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    budget = args.minutes * 60 / len(names)
    for name in names:
        try:  # the config checks every value (--ema, --batch-size, ...): one line, nothing written
            cfg = plan(name, args, data)
        except RestorekitError as error:
            parser.error(str(error))
        out.mkdir(parents=True, exist_ok=True)
        rundir = Path(cfg.out)
        if (rundir / "last.pt").exists():  # resume with the steps it was sized to
            from restorekit.train.checkpoint import load_checkpoint
            from restorekit.train.config import TrainConfig

            cfg = TrainConfig.from_file(rundir / "config.json")
            if load_checkpoint(rundir)["step"] >= cfg.steps:
                print(f"{name}: already trained -> {rundir}", flush=True)
                continue
            resume = True
        else:
            per_step = seconds_per_step(cfg, 2 if args.smoke else 20)
            steps = 4 if args.smoke else max(1000, int(budget / per_step))
            cfg = cfg.replace(steps=steps)
            record[name] = {"seconds_per_step": round(per_step, 5), "steps": steps,
                            "patches": steps * cfg.batch_size, "patch_size": cfg.patch_size}
            record_path.write_text(json.dumps(record, indent=2))
            resume = False
            if rundir.exists():  # a folder without a checkpoint: nothing to keep
                import shutil

                shutil.rmtree(rundir)
        start = time.perf_counter()
        result = train(cfg, resume=resume, progress=not args.smoke)
        record.setdefault(name, {}).update(minutes=round((time.perf_counter() - start) / 60, 2), best_psnr=round(result.best_psnr, 3))
        record_path.write_text(json.dumps(record, indent=2))
        print(f"{name}: step {result.step}, validation {result.best_psnr:.2f} dB -> {rundir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
