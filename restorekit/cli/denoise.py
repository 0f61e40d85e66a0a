"""``restorekit denoise``: denoise image files with a shipped or trained model."""

from __future__ import annotations

import contextlib
import math

import click

from restorekit.cli.app import app


def _parse_sigma(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--sigma 25`` -> 25/255 (the library's [0, 1] scale); ``auto`` -> None (blind)."""
    # RestorekitError rather than click.BadParameter: one "error: ..." line and exit 1, as
    # for every other bad input (see restorekit.cli.options).
    from restorekit.errors import RestorekitError

    if value is None or value.strip().lower() == "auto":
        return None
    try:
        sigma = float(value)
    except ValueError:
        raise RestorekitError(f"--sigma must be a number on the 0-255 scale or 'auto', got {value!r}") from None
    if not math.isfinite(sigma) or not 0 <= sigma <= 255:
        raise RestorekitError(f"--sigma must be between 0 and 255 (the 0-255 scale) or 'auto', got {value}")
    return sigma / 255.0


@app.command("denoise")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("-o", "--out", required=True, metavar="OUT",
              help="Output folder (created), or an output file when one image is given.")
@click.option("--model", metavar="NAME|PATH",
              help="Shipped model, .safetensors file, training run folder or DnCNN .pth "
                   "(default: the shipped gray or colour model, by each image's channels).")
@click.option("--sigma", default="auto", show_default=True, metavar="N|auto", callback=_parse_sigma,
              help="Noise level on the 0-255 scale, or auto: estimate it per image (blind mode).")
@click.option("--tile", type=int, metavar="N",
              help="Process in overlapping N-pixel tiles to bound memory (automatic above 2 megapixels).")
@click.option("--overlap", type=int, metavar="N", help="Pixels shared by neighbouring tiles (default: a quarter tile).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--suffix", default="", metavar="S", help="Append S to each output's file name stem, e.g. _denoised.")
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist, inputs included.")
def denoise_command(inputs, out, model, sigma, tile, overlap, device, suffix, overwrite):
    """Denoise images (files, folders, glob patterns) into OUT, keeping each file's kind.

    Outputs keep the input's format, bit depth (16-bit stays 16-bit), channels and alpha.
    Nothing is overwritten without --overwrite. A file that fails is reported on one line
    and the others still run; the exit code is then 1.

    \b
    restorekit denoise noisy/ -o clean/ --sigma 25
    restorekit denoise scan.tif -o scan-clean.tif --model runs/fastunet-color
    """
    from restorekit.api import default_model
    from restorekit.errors import RestorekitError
    from restorekit.infer.runner import DEFAULT_TILE, denoise_files
    from restorekit.models import load_model
    from restorekit.outputs import plan_outputs

    if tile is not None and tile < 16:
        raise RestorekitError(f"--tile must be at least 16 pixels, got {tile}")
    half = (tile or DEFAULT_TILE) // 2
    if overlap is not None and not 0 <= overlap <= half:
        raise RestorekitError(f"--overlap must be between 0 and half the tile ({half}), got {overlap}")
    _check_device(device)
    jobs = plan_outputs(inputs, out, suffix=suffix, overwrite=overwrite)

    loaded: dict[str, object] = {}

    def model_for(channels: int):
        name = model or default_model(channels)
        if name not in loaded:
            loaded[name] = load_model(name, device=device)
        return loaded[name]

    if model is not None:  # load now: a bad --model fails before any file is read
        net = loaded[model] = load_model(model, device=device)
        if sigma is not None and not getattr(net, "conditioned", False):
            click.echo(f"note: {model} is not noise-conditioned; --sigma is ignored", err=True)

    with _progress(len(jobs)) as bar:
        failures = denoise_files(jobs, model_for, sigma, tile=tile, overlap=overlap,
                                 on_start=bar.start, on_tile=bar.tile, on_done=bar.done, on_error=bar.error)
    done = len(jobs) - len(failures)
    if failures:
        # the last "error:" line and exit 1 come from restorekit.cli.main, as for any known error
        raise RestorekitError(f"{len(failures)} of {len(jobs)} images failed ({done} written)")
    click.echo(f"denoised {done} image{'s' if done != 1 else ''} -> {out}")


def _check_device(device: str) -> None:
    import torch

    from restorekit.errors import RestorekitError

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise RestorekitError(f"--device: unknown device {device!r} (use cpu, cuda or cuda:N)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RestorekitError(f"--device {device}: no CUDA device available (use --device cpu)")


class _Bar:
    """Progress over files and, for tiled images, over the tiles of the current file."""

    def __init__(self, progress, total: int):
        self.progress = progress
        self.files = progress.add_task("images", total=total)
        self.tiles = progress.add_task("  tiles", total=1, visible=False)

    def start(self, job, index: int) -> None:
        self.progress.update(self.files, description=f"images ({job.source.name})")
        self.progress.reset(self.tiles, total=1, visible=False)

    def tile(self, done: int, total: int) -> None:
        self.progress.update(self.tiles, completed=done, total=total, visible=total > 1)

    def done(self, job) -> None:
        self.progress.advance(self.files)
        click.echo(f"{job.source} -> {job.target}")

    def error(self, job, reason: str) -> None:
        self.progress.advance(self.files)
        click.echo(f"error: {reason}", err=True)


@contextlib.contextmanager
def _progress(total: int):
    """A rich progress bar on stderr, shown only on a terminal (logs stay clean)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=console, transient=True, disable=not console.is_terminal)
    with progress:
        yield _Bar(progress, total)
