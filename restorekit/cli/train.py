"""``restorekit train``: train a denoiser from scratch on folders of clean (or noisy) images."""

from __future__ import annotations

import json
from pathlib import Path

import click

from restorekit.cli.app import app

# Options shared by `train` and `finetune`, typed once. None means "not given": the config
# file (if any), then TrainConfig's defaults, fill them in.
_SHARED = [
    click.option("--data", help="Training image folder(s), comma separated."),
    click.option("--val", help="Validation folder of clean images (PSNR every --val-every steps)."),
    click.option("--noise", help="Degradation spec, e.g. gaussian:25, gaussian:0-55, poisson:30, speckle:0.25."),
    click.option("--val-noise", help="Validation degradation spec (default: --noise)."),
    click.option("--channels", type=click.IntRange(1, 3), help="1 (gray) or 3 (colour); images are converted."),
    click.option("--steps", type=int, help="Optimizer steps."),
    click.option("--epochs", type=float, help="Instead of --steps: passes over the data's pixels."),
    click.option("--batch-size", type=int),
    click.option("--patch-size", type=int),
    click.option("--lr", type=float, help="Peak learning rate (Adam), decayed by a cosine to --lr-min."),
    click.option("--lr-min", type=float),
    click.option("--warmup", type=int, help="Linear warm-up steps."),
    click.option("--schedule", type=click.Choice(["cosine", "wsd"]),
                 help="cosine: decay over the whole run; wsd: hold the rate, decay over the last --decay "
                      "fraction (extend a run with --resume --steps MORE)."),
    click.option("--decay", type=float, help="wsd: the fraction of the steps the rate decays over (0.2)."),
    click.option("--ema", type=float, help="Validate and keep a moving average of the weights, e.g. 0.999 (0: off)."),
    click.option("--loss", type=click.Choice(["l1", "mse", "charbonnier", "psnr"])),
    click.option("--seed", type=int),
    click.option("--val-every", type=int),
    click.option("--val-limit", type=int, help="Validate on the first N images only."),
    click.option("--holdout", type=int, help="Without --val: keep N training images out of training and validate on them."),
    click.option("--save-every", type=int, help="Write the resumable checkpoint every N steps."),
    click.option("--device", help="cpu, cuda or cuda:N."),
    click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]),
                 help="bf16: autocast the forward pass (about 1.7x faster on CPUs with AVX512-BF16); "
                      "auto: bf16 on a GPU only."),
    click.option("--config", "config_file", type=click.Path(dir_okay=False), help="JSON file of options; flags override it."),
    click.option("--out", help="Run directory: config.json, log.csv, last.pt, best.safetensors."),
    click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint."),
    click.option("--overwrite", is_flag=True, help="Replace the run in --out (its weights, log and config)."),
    click.option("--quiet", is_flag=True, help="No progress output."),
]


def training_options(fn):
    for option in reversed(_SHARED):
        fn = option(fn)
    return fn


@app.command("train")
@click.option("--arch", help="Architecture (see `restorekit models --architectures`): fastunet, dncnn, unet, dae.")
@click.option("--arch-args", help='Architecture arguments as JSON, e.g. \'{"depth": 20}\'.')
@click.option("--self-supervised", is_flag=True, help="Learn from noisy images alone (--data holds noisy images).")
@click.option("--method", type=click.Choice(["neighbor2neighbor", "n2v"]), default="neighbor2neighbor",
              show_default=True, help="Self-supervised method.")
@training_options
def train_command(arch_args, self_supervised, method, **options):
    """Train a denoiser on clean images degraded on the fly, or on noisy images alone.

    \b
    restorekit train --arch dncnn --data ../shared/data/train/Train400 \\
        --val ../shared/data/test/Set12 --noise gaussian:25 --steps 40 \\
        --batch-size 8 --patch-size 40 --out runs/dncnn-s25
    restorekit train --self-supervised --arch fastunet --data my_noisy_scans/ --steps 400 --out runs/n2n
    """
    given = {"arch_args": parse_json("--arch-args", arch_args)} if arch_args else {}
    if self_supervised:
        given["self_supervised"] = method
        options["noise"] = options["noise"] or "none"  # the images are noisy already
    run_training(given, required=("arch", "data", "out"), **options)


def parse_json(option: str, text: str) -> dict:
    """An option's JSON object, or one clear error."""
    from restorekit.errors import RestorekitError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RestorekitError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RestorekitError(f"{option} takes a JSON object, e.g. '{{\"blocks\": 4}}'; got {text}")
    return value


def run_training(given: dict, *, required, config_file, resume, overwrite, quiet, epochs, data, **options) -> None:
    """Resolve the config (file, then flags), run it and print where the model went."""
    from restorekit.errors import RestorekitError
    from restorekit.train.config import TrainConfig
    from restorekit.train.trainer import train

    given = {**given, **{k: v for k, v in options.items() if v is not None}}
    if data:
        given["data"] = tuple(d for d in data.split(",") if d)
    if resume and not config_file and given.get("out") and (Path(given["out"]) / "config.json").exists():
        config_file = Path(given["out"]) / "config.json"  # resume with the run's own config
    if config_file:
        cfg = TrainConfig.from_file(config_file, **given)
    else:
        missing = [f"--{k.replace('_', '-')}" for k in required if k not in given]
        if missing:
            raise RestorekitError(f"missing option(s): {', '.join(missing)}")
        cfg = TrainConfig.from_dict(given)
    if epochs is not None:
        cfg = cfg.replace(steps=_epochs_to_steps(cfg, epochs))
    result = train(cfg, resume=resume, overwrite=overwrite, progress=not quiet)
    score = f"best validation PSNR {result.best_psnr:.2f} dB" if result.best_psnr > -1e9 else "no validation set"
    click.echo(f"step {result.step}: {score} -> {result.rundir}/best.safetensors")


def _epochs_to_steps(cfg, epochs: float) -> int:
    """An epoch covers as many pixels as the training images hold (DnCNN's definition)."""
    from restorekit.data.folders import ImageFolder, image_size

    pixels = sum(h * w for h, w in map(image_size, ImageFolder(cfg.data, cfg.channels).paths))
    return max(1, round(epochs * pixels / (cfg.batch_size * cfg.patch_size**2)))
