"""``restorekit deblur``: restore sharp images from blurred, noisy ones, given the blur kernel."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import file_command_options, sigma_option


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
def deblur_command(inputs, kernel, out, overwrite, sigma, method, model, iters, circular):
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
    from restorekit.deblurring.methods import DeblurRestorer
    from restorekit.degradations import load_kernel
    from restorekit.errors import RestorekitError
    from restorekit.estimate import estimate_sigma
    from restorekit.files import run_files, summary
    from restorekit.outputs import plan_outputs

    # Check every input before the first (slow) restoration and before writing anything.
    if model is not None and method != "pnp":
        raise RestorekitError(f"--model is pnp's denoiser; --method {method} takes none")
    if iters is not None and method == "wiener":
        raise RestorekitError("--iters applies to pnp and rl; wiener is not iterative")
    k = load_kernel(kernel)
    jobs = plan_outputs(inputs, out, overwrite=overwrite)
    restorer = DeblurRestorer(method, model=model, iters=iters)
    levels: dict = {}

    def process(image, job):
        level = sigma if sigma is not None else float(estimate_sigma(image))
        levels[job] = f"{method}, noise {level * 255:.2f} {'given' if sigma is not None else 'estimated'}"
        return restorer(image, level, kernel=k, circular=circular)

    with file_progress(len(jobs)) as reporter:
        failures = run_files(jobs, process, reporter, note=levels.get)
    click.echo(summary("deblurred", jobs, failures, out))
