"""``restorekit denoise``: denoise image files with a shipped or trained model."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import (collection_options, device_option, ensemble_option, file_command_options,
                                    sigma_option)


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
@ensemble_option("Average the model's outputs for this many flips/rotations: slower, slightly better.")
@click.option("--nan", type=click.Choice(["refuse", "fill"]), default="refuse", show_default=True,
              help="Float images with NaN/inf pixels: refuse them, or fill them for the network and put them back.")
@device_option
@click.option("--suffix", default="", metavar="S", help="Append S to each output's file name stem, e.g. _denoised.")
@click.option("--verbose", is_flag=True, help="Blind mode: show the identified noise and the method and level chosen.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON record per file (source, target, choice).")
@collection_options
def denoise_command(inputs, out, overwrite, model, sigma, strength, tile, overlap, pd, ensemble, nan, device, suffix,
                    verbose, as_json, skip_existing, workers, engine, address):
    """Denoise images (files, folders, glob patterns) into OUT, keeping each file's kind.

    Outputs keep the input's format, bit depth (16-bit stays 16-bit), channels and alpha.
    Nothing is overwritten without --overwrite. A file that fails is reported on one line
    and the others still run; the exit code is then 1. Each image goes through
    ``restorekit.denoise`` with the same arguments, so Python and the command line agree.

    \b
    restorekit denoise noisy/ -o clean/ --sigma 25
    restorekit denoise scan.tif -o scan-clean.tif --model runs/fastunet-color
    restorekit denoise big/ -o clean/ --workers 4 --skip-existing
    """
    from restorekit.cli.progress import file_progress
    from restorekit.files import run_files, summary
    from restorekit.outputs import plan_outputs
    from restorekit.tasks import DenoiseTask

    task = DenoiseTask(model=model, sigma=sigma, strength=strength, tile=tile, overlap=overlap, nan=nan, pd=pd,
                       ensemble=ensemble, device=device, verbose=verbose or as_json)
    task.check()  # a bad --tile/--overlap fails before any file is read
    jobs = plan_outputs(inputs, out, suffix=suffix, overwrite=overwrite, skip_existing=skip_existing)
    for line in task.load():  # a bad --model fails before any file is read
        click.echo(f"note: {line}", err=True)
    with file_progress(len(jobs)) as reporter:
        if as_json:
            reporter = JsonLines(reporter)
        failures = run_files(jobs, task, reporter, workers=workers, engine=engine, address=address)
    click.echo(summary("denoised", jobs, failures, out, jobs.skipped), err=as_json)  # stdout: JSON only


class JsonLines:
    """``--json``: one JSON record per file on stdout instead of the ``a -> b`` line."""

    def __init__(self, inner):
        self.inner = inner

    def start(self, job, index):
        self.inner.start(job, index)

    def tile(self, done, total):
        self.inner.tile(done, total)

    def done(self, job, note=""):
        import json

        record = {"source": str(job.source), "target": str(job.target)}
        if note:
            record["choice"] = json.loads(note)
        click.echo(json.dumps(record))

    def error(self, job, reason):
        self.inner.error(job, reason)
