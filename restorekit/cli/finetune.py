"""``restorekit finetune``: adapt a pretrained model to the user's images and noise."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.train import parse_json, run_training, training_options


@app.command("finetune")
@click.option("--from", "init_from", required=True, help="Starting model: a shipped name, a .safetensors file or a run directory.")
@click.option("--freeze", type=int, help="Keep the first N convolutions fixed.")
@click.option("--grow", help='Grow the starting model first, e.g. \'{"blocks": 4}\' or \'{"widths": [48, 64, 128]}\': '
                             "it starts out computing what it did, so training goes on from the model's quality "
                             "with more capacity. Fewer blocks at a level (\'{\"blocks\": [3, 4, 4]}\') drop "
                             "that level's last blocks instead, for a faster model that training then recovers.")
@click.option("--self-supervised", "self_supervised", type=click.Choice(["neighbor2neighbor", "n2v"]),
              help="Fine-tune on noisy images alone with this method.")
@training_options
def finetune_command(init_from, freeze, grow, self_supervised, **options):
    """Fine-tune a pretrained model on your clean images with your noise model.

    The architecture comes from the starting model; when --channels differs from the
    model's, its first and last layers are adapted (gray <-> colour), and --grow makes it
    deeper or wider first.

    \b
    restorekit finetune --from fastunet.gray --data ../shared/data/train/Train400 \\
        --noise speckle:0.25 --steps 300 --out runs/ft-speckle
    """
    from restorekit.models import load_model

    model = load_model(init_from)  # fails early, with one line, on a bad --from
    given = {
        "arch": model.arch, "arch_args": {k: v for k, v in model.arch_args.items() if k != "channels"},
        "init_from": str(init_from), "lr": 1e-4, "warmup": 0, "channels": model.in_channels,
    }
    if grow:
        given["arch_args"].update(parse_json("--grow", grow))
    if freeze is not None:
        given["freeze"] = freeze
    if self_supervised:
        given["self_supervised"] = self_supervised
        options["noise"] = options["noise"] or "none"
    run_training(given, required=("data", "out"), **options)
