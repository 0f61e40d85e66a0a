"""``restorekit denoise``: denoise image files with a shipped or trained model."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import device_option, file_command_options, sigma_option


@app.command("denoise")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@file_command_options
@click.option("--model", metavar="NAME|PATH",
              help="Shipped model, .safetensors file, training run folder or DnCNN .pth "
                   "(default: the shipped gray or colour model, by each image's channels).")
@sigma_option()
@click.option("--strength", type=click.FloatRange(0, 4), default=1.0, show_default=True,
              help="Scale the noise level the model is told: below 1 keeps texture, above 1 removes more.")
@click.option("--tile", type=int, metavar="N",
              help="Process in overlapping N-pixel tiles to bound memory (automatic above 2 megapixels).")
@click.option("--overlap", type=int, metavar="N", help="Pixels shared by neighbouring tiles (default: a quarter tile).")
@click.option("--pd", type=click.IntRange(1, 4), default=1, show_default=True,
              help="Pixel-shuffle down-sampling factor: 2 helps Gaussian models on real camera noise.")
@click.option("--nan", type=click.Choice(["refuse", "fill"]), default="refuse", show_default=True,
              help="Float images with NaN/inf pixels: refuse them, or fill them for the network and put them back.")
@device_option
@click.option("--suffix", default="", metavar="S", help="Append S to each output's file name stem, e.g. _denoised.")
def denoise_command(inputs, out, overwrite, model, sigma, strength, tile, overlap, pd, nan, device, suffix):
    """Denoise images (files, folders, glob patterns) into OUT, keeping each file's kind.

    Outputs keep the input's format, bit depth (16-bit stays 16-bit), channels and alpha.
    Nothing is overwritten without --overwrite. A file that fails is reported on one line
    and the others still run; the exit code is then 1. Each image goes through
    ``restorekit.denoise`` with the same arguments, so Python and the command line agree.

    \b
    restorekit denoise noisy/ -o clean/ --sigma 25
    restorekit denoise scan.tif -o scan-clean.tif --model runs/fastunet-color
    """
    from restorekit.cli.progress import file_progress
    from restorekit.files import run_files, summary
    from restorekit.infer import denoise, plan_tiles, resolve_network
    from restorekit.outputs import plan_outputs

    plan_tiles(1 << 16, 1 << 16, 1, tile, overlap)  # a bad --tile/--overlap fails before any file is read
    jobs = plan_outputs(inputs, out, suffix=suffix, overwrite=overwrite)
    if model is not None:  # load now: a bad --model fails before any file is read
        net = resolve_network(model, device=device)
        if sigma is not None and not getattr(net, "conditioned", False):
            click.echo(f"note: {model} is not noise-conditioned; --sigma is ignored", err=True)

    with file_progress(len(jobs)) as reporter:
        def process(image, job):
            net = resolve_network(model, 1 if image.ndim == 2 else image.shape[2], device)  # loaded once, cached
            return denoise(image, net, sigma, strength=strength, tile=tile, overlap=overlap, nan=nan, pd=pd,
                           progress=reporter.tile)

        failures = run_files(jobs, process, reporter)
    click.echo(summary("denoised", jobs, failures, out))
