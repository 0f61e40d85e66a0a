"""``restorekit identify``: which noise is in each image, and how much."""

from __future__ import annotations

import click

from restorekit.cli.app import app


@app.command("identify")
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one record per image) instead of a table.")
def identify_command(inputs, as_json):
    """Identify the noise in images (files, folders, glob patterns): kind, level and a spec.

    The spec reproduces the noise with ``restorekit degrade --noise SPEC``. Levels are in
    the spec's units: Gaussian sigma, Poisson-Gaussian and camera RMS on the 0-255 scale,
    the salt-and-pepper amount, the speckle sigma, the JPEG quality. A file that cannot be
    read or identified is reported on one line; the others still run and the exit code is 1.

    \b
    restorekit identify photos/*.jpg
    restorekit identify scan.png --json
    """
    import json

    from restorekit.errors import RestorekitError
    from restorekit.identify import identify_noise
    from restorekit.io import list_images, read_image

    rows, failed = [], 0
    for item in inputs:
        try:
            paths = list_images([item])
        except RestorekitError as exc:  # a missing file or an empty folder: one line, go on
            failed += 1
            click.echo(f"error: {exc}", err=True)
            continue
        for path in paths:
            try:
                image, _ = read_image(path)
                report = identify_noise(image)
            except RestorekitError as exc:
                failed += 1
                click.echo(f"error: {exc}" if str(path) in str(exc) else f"error: {path}: {exc}", err=True)
                continue
            rows.append({"file": str(path), **report.as_dict()})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif rows:
        _print_table(rows)
    if failed:
        raise click.exceptions.Exit(1)


def _print_table(rows: list[dict]) -> None:
    from rich.table import Table

    from restorekit.cli.options import stdout_console

    table = Table(box=None, header_style="bold")
    table.add_column("file")
    table.add_column("kind")
    table.add_column("level", justify="right")
    table.add_column("spec")
    for row in rows:
        table.add_row(row["file"], row["kind"], f"{row['level']:g}", row["spec"])
    stdout_console().print(table)
