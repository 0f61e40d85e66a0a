"""``restorekit degrade``: write degraded copies of images (noise, blur), seeded."""

from __future__ import annotations

import click

from restorekit.cli.app import app
from restorekit.cli.options import noise_option, seed_option


@app.command("degrade")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option(
    "-o", "--out", "out", required=True, metavar="OUT", type=click.Path(),
    help="Output folder (created if needed), or a file name for a single input.",
)
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
    help="random: a seed per file from --seed; paper: the published tables' noise (np.random.seed(0) per image).",
)
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")
def degrade_command(inputs, out, noise, seed, protocol, overwrite):
    """Degrade images (files, folders, glob patterns) into OUT, keeping each file's format.

    Each file gets its own seed, derived from --seed and its position, so that two files
    never share a noise pattern and a rerun gives the same images. Outputs keep the input's
    format, bit depth, channels and alpha; they are clipped and quantized on writing.

    \b
    restorekit degrade ../shared/data/test/Set12 -o noisy --noise gaussian:25 --seed 0
    """
    from restorekit.degradations import degrade, paper_degrade, parse_spec
    from restorekit.degradations.paper import check_paper_spec
    from restorekit.io import read_image, write_image
    from restorekit.outputs import plan_outputs

    degradation = check_paper_spec(noise) if protocol == "paper" else parse_spec(noise)
    jobs = plan_outputs(inputs, out, overwrite=overwrite)  # refuses before anything is written
    for index, job in enumerate(jobs):
        clean, info = read_image(job.source)
        if protocol == "paper":
            degraded, note = paper_degrade(clean, degradation), "paper protocol"
        else:
            file_seed = file_seed_of(seed, index)
            degraded, note = degrade(clean, degradation, seed=file_seed), f"seed {file_seed}"
        write_image(job.target, degraded, info)
        click.echo(f"{job.source} -> {job.target} ({degradation.spec}, {note})")
    click.echo(f"wrote {len(jobs)} image{'s' if len(jobs) != 1 else ''} to {out}")


def file_seed_of(seed: int, index: int) -> int:
    """A 63-bit seed for the ``index``-th file, well mixed from (seed, index).

    NumPy's SeedSequence hashes the pair, so neighbouring seeds and indices give unrelated
    streams (seed + index would make file 1 of seed 0 equal file 0 of seed 1).
    """
    import numpy as np

    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF, index]  # SeedSequence takes non-negative ints
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> 1)
