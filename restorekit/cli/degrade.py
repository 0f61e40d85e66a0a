"""``restorekit degrade``: write degraded copies of images (noise, blur), seeded."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import collection_options, file_command_options, noise_option, seed_option


@app.command("degrade")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@file_command_options
@noise_option(
    multiple_specs=False,
    help="Degradation, 0-255 units: gaussian:25, poisson:30+gaussian:5, blur:motion-15-45+gaussian:2.55.",
)
@seed_option()
@click.option(
    "--protocol",
    type=click.Choice(["random", "paper"]),
    default="random",
    show_default=True,
    help="random: a seed per file from --seed and its name; paper: the published tables' noise "
         "(np.random.seed(0) per image).",
)
@collection_options
def degrade_command(inputs, out, overwrite, noise, seed, protocol, skip_existing, workers, engine, address):
    """Degrade images (files, folders, glob patterns) into OUT, keeping each file's format.

    Each file's noise is seeded from --seed and the file's name (restorekit.seeds), so two
    files never share a noise pattern, a rerun gives the same images, and `restorekit
    evaluate --protocol random --seed S` scores exactly these noisy images. Outputs keep the
    input's format, bit depth, channels and alpha; they are clipped and quantized on writing.

    \b
    restorekit degrade ../shared/data/test/Set12 -o noisy --noise gaussian:25 --seed 0
    """
    from restorekit.cli.progress import file_progress
    from restorekit.files import run_files, summary
    from restorekit.outputs import plan_outputs
    from restorekit.tasks import DegradeTask

    task = DegradeTask(spec=noise, seed=seed, protocol=protocol)
    task.check()
    jobs = plan_outputs(inputs, out, overwrite=overwrite, skip_existing=skip_existing)  # refuses before writing
    with file_progress(len(jobs)) as reporter:
        failures = run_files(jobs, task, reporter, workers=workers, engine=engine, address=address)
    click.echo(summary("degraded", jobs, failures, out, jobs.skipped))
