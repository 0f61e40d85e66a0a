"""``restorekit deblur``: restore sharp images from blurred, noisy ones, given the blur kernel."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import collection_options, file_command_options, sigma_option


@app.command("deblur")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--kernel", "-k", "kernel", required=True, metavar="K",
              help="Blur kernel: gaussian-1.6, motion-15-45, uniform-9, FILE.npy, FILE.npz#NAME, "
                   "FILE.png or FILE.mat#N.")
@file_command_options
@sigma_option("Noise level on the 0-255 scale, or auto: estimate it per image.")
@click.option("--method", default="pnp", show_default=True, metavar="pnp|wiener|rl",
              help="pnp: plug-and-play with a learned denoiser (best); wiener; rl: Richardson-Lucy.")
@click.option("--model", metavar="NAME|PATH",
              help="pnp's denoiser: a shipped name, .safetensors file, training run folder, or a "
                   "classical denoiser (bm3d). Default: the shipped model for the image's channels.")
@click.option("--iters", type=click.IntRange(min=1), metavar="N",
              help="Iterations: pnp's HQS steps (default 8), rl's updates (default from the noise level).")
@click.option("--circular", is_flag=True,
              help="The image was blurred circularly (synthetic benchmarks): skip the border handling "
                   "that real photos need.")
@click.option("--nan", type=click.Choice(["refuse", "fill"]), default="refuse", show_default=True,
              help="Float images with NaN/inf pixels: refuse them, or fill them for the restoration and put them back.")
@collection_options
def deblur_command(inputs, kernel, out, overwrite, sigma, method, model, iters, circular, nan,
                   skip_existing, workers, engine, address):
    """Deblur images (files, folders, glob patterns) blurred by a known kernel.

    Outputs keep each input's format, bit depth, channels and alpha. Real photographs are
    padded and solved with their borders unknown, so that they do not ring; pass
    --circular for images blurred with wrap-around (the benchmarks' protocol). A file that
    fails is reported on one line and the others still run; the exit code is then 1.

    \b
    restorekit deblur blurred.png --kernel motion-15-45 -o sharp.png
    restorekit deblur photos/ --kernel ../shared/data/kernels/levin09.npz#levin3 \\
        --sigma 2.55 --method wiener -o out/
    """
    from restorekit.cli.progress import file_progress
    from restorekit.files import run_files, summary
    from restorekit.outputs import plan_outputs
    from restorekit.tasks import DeblurTask

    task = DeblurTask(kernel=kernel, sigma=sigma, method=method, model=model, iters=iters, circular=circular,
                      nan=nan)
    task.check()  # every option before the first (slow) restoration and before writing anything
    jobs = plan_outputs(inputs, out, overwrite=overwrite, skip_existing=skip_existing)
    task.load()
    with file_progress(len(jobs)) as reporter:
        failures = run_files(jobs, task, reporter, workers=workers, engine=engine, address=address)
    click.echo(summary("deblurred", jobs, failures, out, jobs.skipped))
