"""``restorekit deblur``: restore sharp images from blurred, noisy ones, given the blur kernel."""

from __future__ import annotations

import click

from restorekit.cli.app import app


@app.command("deblur")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--kernel", "-k", "kernel", required=True, metavar="K",
              help="Blur kernel: gaussian-1.6, motion-15-45, uniform-9, FILE.npy, FILE.npz#NAME, "
                   "FILE.png or FILE.mat#N.")
@click.option("-o", "--out", "out", required=True, metavar="OUT", type=click.Path(),
              help="Output folder (created if needed), or a file name for a single input.")
@click.option("--noise-level", type=click.FloatRange(min=0, max=255), metavar="N",
              help="Noise standard deviation on the 0-255 scale (default: estimated per image).")
@click.option("--method", type=click.Choice(["pnp", "wiener", "rl"]), default="pnp", show_default=True,
              help="pnp: plug-and-play with a learned denoiser (best); wiener; rl: Richardson-Lucy.")
@click.option("--model", metavar="NAME|PATH",
              help="pnp's denoiser: a shipped name, .safetensors file, training run folder, or a "
                   "classical denoiser (bm3d). Default: the shipped model for the image's channels.")
@click.option("--iters", type=click.IntRange(min=1), metavar="N",
              help="Iterations: pnp's HQS steps (default 8), rl's updates (default from the noise level).")
@click.option("--circular", is_flag=True,
              help="The image was blurred circularly (synthetic benchmarks): skip the border handling "
                   "that real photos need.")
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")
def deblur_command(inputs, kernel, out, noise_level, method, model, iters, circular, overwrite):
    """Deblur images (files, folders, glob patterns) blurred by a known kernel.

    Outputs keep each input's format, bit depth, channels and alpha. Real photographs are
    padded and solved with their borders unknown, so that they do not ring; pass
    --circular for images blurred with wrap-around (the benchmarks' protocol).

    \b
    restorekit deblur blurred.png --kernel motion-15-45 -o sharp.png
    restorekit deblur photos/ --kernel ../shared/data/kernels/levin09.npz#levin3 \\
        --noise-level 2.55 --method wiener -o out/
    """
    from restorekit.deblurring.methods import DeblurRestorer
    from restorekit.degradations import load_kernel
    from restorekit.errors import RestorekitError
    from restorekit.io import read_image, write_image
    from restorekit.outputs import plan_outputs

    # Check every input before the first (slow) restoration and before writing anything.
    if model is not None and method != "pnp":
        raise RestorekitError(f"--model is pnp's denoiser; --method {method} takes none")
    if iters is not None and method == "wiener":
        raise RestorekitError("--iters applies to pnp and rl; wiener is not iterative")
    k = load_kernel(kernel)
    jobs = plan_outputs(inputs, out, overwrite=overwrite)

    restorer = DeblurRestorer(method, model=model, iters=iters)
    for job in jobs:
        image, info = read_image(job.source)
        if noise_level is None:
            from restorekit.estimate import estimate_sigma

            sigma, note = float(estimate_sigma(image)), "estimated"
        else:
            sigma, note = noise_level / 255, "given"
        restored = restorer(image, sigma, kernel=k, circular=circular)
        write_image(job.target, restored, info)
        click.echo(f"{job.source} -> {job.target} ({method}, noise {sigma * 255:.2f} {note})")
    click.echo(f"wrote {len(jobs)} image{'s' if len(jobs) != 1 else ''} to {out}")
