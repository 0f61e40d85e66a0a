"""``restorekit evaluate``: every method on every image of every dataset, under every noise."""

from __future__ import annotations

from pathlib import Path

import click

from restorekit.cli.app import app
from restorekit.cli.options import ensemble_option, noise_option, seed_option, split_commas

_FILE = click.Path(dir_okay=False, path_type=Path)


@app.command("evaluate")
@click.option("--method", "methods", multiple=True, metavar="M1,M2",
              help="Classical methods (bm3d, nlm, tv, wavelet, median, gaussian, bilateral), deblurring "
                   "methods for blur specs (pnp[:PRIOR], wiener, rl[:ITERATIONS]) or models "
                   "(model:NAME|PATH); comma separated, repeatable.")
@click.option("--model", "models", multiple=True, metavar="NAME|PATH",
              help="A network: shipped name, .safetensors/.pth file or training run folder; repeatable.")
@click.option("--data", "data", multiple=True, metavar="DIR[,DIR]",
              help="Folders (or files, globs) of clean images; each folder is one dataset.")
@click.option("--pairs", "pairs", multiple=True, metavar="DIR[,DIR]",
              help="Instead of --data and --noise: real noisy images, DIR/noisy/NAME beside DIR/clean/NAME "
                   "(e.g. ../shared/data/test/Nam25); methods run blind.")
@noise_option(required=False)
@click.option("--protocol", type=click.Choice(["paper", "random"]), default=None,
              help="paper: the published tables' noise (per image np.random.seed(0), Gaussian only); "
                   "random: seeded noise from --seed. Default: paper for Gaussian noise, else random.")
@seed_option()
@click.option("--blind", is_flag=True, help="Do not tell the methods the noise level (they estimate it).")
@ensemble_option("Run the models (and auto) as the mean over this many flips/rotations; classical methods as they "
                 "are.")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N images of each dataset.")
@click.option("--crop", type=click.IntRange(min=0), default=0, show_default=True,
              help="Ignore this many border pixels in PSNR/SSIM.")
@click.option("--json", "json_path", type=_FILE, help="Write the records as JSON (with per-image scores).")
@click.option("--csv", "csv_path", type=_FILE, help="Write the table as CSV.")
@click.option("--markdown", "markdown_path", type=_FILE, help="Write the table as Markdown.")
@click.option("--figure", "figure_path", type=_FILE,
              help="Write a PNG: the same crop of clean, noisy and each method's output, with PSNR.")
@click.option("--save-images", type=click.Path(file_okay=False, path_type=Path),
              help="Write the scored 8-bit images to DIR/<dataset>/<noise>/<method>/.")
@click.option("--overwrite", is_flag=True, help="Replace report, figure and image files that already exist.")
def evaluate_command(methods, models, data, pairs, noise, protocol, seed, blind, ensemble, limit, crop,
                     json_path, csv_path, markdown_path, figure_path, save_images, overwrite):
    """Score denoisers on folders of clean images: PSNR, SSIM and speed.

    Each image is degraded once and every method restores that same image; outputs are
    clipped and rounded to 8 bits and scored against the 8-bit clean image (the papers'
    protocol; 16-bit images are scored at 8 bits too).

    \b
    restorekit evaluate --method bm3d,nlm --data ../shared/data/test/Set12 \\
        --noise gaussian:15,gaussian:25 --protocol paper --markdown set12.md
    restorekit evaluate --method bm3d --model runs/dncnn25 --data Set12,BSD68 \\
        --noise gaussian:25 --figure cmp.png
    restorekit evaluate --method bm3d --model fastunet.color --pairs ../shared/data/test/Nam25
    """
    from restorekit.cli.options import stdout_console
    from restorekit.cli.progress import progress_bar
    from restorekit.errors import RestorekitError
    from restorekit.evaluate.benchmark import default_protocol, evaluate, make_degrader, resolve_method
    from restorekit.evaluate.report import to_table, write_report

    # Check every input before the first (slow) restoration.
    names = split_commas(methods) + [f"model:{m}" for m in split_commas(models)]
    if not names:
        raise RestorekitError("nothing to evaluate: give --method and/or --model")
    if len(set(names)) != len(names):
        raise RestorekitError(f"a method is given twice: {', '.join(names)}")
    if bool(pairs) == bool(data) or bool(pairs) == bool(noise):
        raise RestorekitError("give --data with --noise (clean images, degraded here), or --pairs alone (real noisy "
                              "images with references)")
    if pairs:
        from restorekit.evaluate.benchmark import REAL, paired_images

        found = {item: paired_images(item) for item in dict.fromkeys(split_commas(pairs))}
        datasets = [(Path(item).name, clean[:limit]) for item, (clean, _) in found.items()]
        noisy_dirs = {Path(item).name: noisy for item, (_, noisy) in found.items()}
        runs = [(REAL, "pairs")]
    else:
        datasets = _datasets(split_commas(data), limit)
        noisy_dirs = {}
        runs = [(spec, protocol or default_protocol(spec)) for spec in noise]
        for spec, proto in runs:
            make_degrader(spec, proto, seed)
    _check_outputs(datasets, overwrite, json=json_path, csv=csv_path, markdown=markdown_path, figure=figure_path,
                   save_images=save_images)
    restorers = [resolve_method(name, ensemble=ensemble) for name in names]

    total = sum(len(images) for _, images in datasets) * len(runs) * len(restorers)
    records = []
    with progress_bar(total, "evaluating") as advance:
        for dataset, images in datasets:
            for spec, proto in runs:
                records += evaluate(
                    restorers, images, spec, protocol=proto, seed=seed, crop=crop, noisy_dir=noisy_dirs.get(dataset),
                    sigma="blind" if blind else "given", dataset=dataset, progress=advance,
                    save_images=save_images,
                )

    console = stdout_console()
    console.print(to_table(records))
    for path, fmt in ((json_path, "json"), (csv_path, "csv"), (markdown_path, "markdown")):
        if path is not None:
            write_report(path, records, fmt)
            click.echo(f"wrote {path}")
    if figure_path is not None:
        from restorekit.evaluate.figure import comparison_figure

        comparison_figure(records, figure_path)
        click.echo(f"wrote {figure_path}")
    if save_images is not None:
        click.echo(f"wrote images under {save_images}")


def _check_outputs(datasets, overwrite: bool, *, save_images, **reports) -> None:
    """Refuse, before any work, a report written over an input, another report, or an existing file."""
    from restorekit.errors import RestorekitError
    from restorekit.outputs import check_output_file

    inputs = [image for _, images in datasets for image in images]
    given = {name: path for name, path in reports.items() if path is not None}
    seen: dict[Path, str] = {}
    for name, path in given.items():
        check_output_file(path, inputs=inputs, overwrite=overwrite, option=f"--{name}")
        if path.resolve() in seen:
            raise RestorekitError(f"--{seen[path.resolve()]} and --{name} name the same file {path}")
        seen[path.resolve()] = name
    if save_images is not None:
        root = save_images.resolve()
        for image in inputs:
            if root == image.resolve().parent or root in image.resolve().parents:
                raise RestorekitError(f"--save-images {save_images} holds input images; give another folder")
        if save_images.exists() and any(save_images.iterdir()) and not overwrite:
            raise RestorekitError(f"--save-images {save_images} is not empty; pass --overwrite to write into it")


def _datasets(items: list[str], limit: int | None) -> list[tuple[str, list[Path]]]:
    """``--data`` items -> (label, images), the label a folder's name (its path where two
    folders share a name), a folder given twice counted once."""
    from restorekit.io import list_images

    unique = list(dict.fromkeys(items))
    names = [Path(item).name if Path(item).is_dir() else item for item in unique]
    out = []
    for item, name in zip(unique, names):
        images = list_images([item])[:limit]
        out.append((item if names.count(name) > 1 else name, images))
    return out
