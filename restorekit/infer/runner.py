"""Denoise image files: read -> network (whole, or in tiles when large) -> write the same kind.

The file-level loop behind ``restorekit denoise``, kept apart from the CLI so that scripts
and the demo can use it. Two jobs, one function each (pairing inputs with outputs is
:func:`restorekit.outputs.plan_outputs`):

- :func:`restore`: one float image through a loaded network, tiled above
  :data:`TILE_ABOVE` pixels so that memory stays bounded, blind when ``sigma`` is None;
- :func:`denoise_files`: the loop; a bad file is reported through a callback and the rest
  still run.

Models are handed in as ``model_for(channels) -> nn.Module`` (already on its device): this
layer sits below ``restorekit.api``, which knows the default models.

>>> jobs = plan_outputs(["noisy/"], "clean/")                                   # doctest: +SKIP
>>> failures = denoise_files(jobs, lambda c: load_model("runs/a"), sigma=None)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.io import read_image, write_image
from restorekit.outputs import Job

Progress = Callable[[int, int], None]

# Above this many pixels an image goes through tiles even without --tile. Untiled, a
# FastUNet at 2 MP holds a few hundred MB of activations and a 17-layer DnCNN about 1.5 GB;
# tiles of DEFAULT_TILE keep any of them to tens of MB, at a few percent of extra compute.
TILE_ABOVE = 2_000_000
DEFAULT_TILE = 512


# ---------------------------------------------------------------------------------------
# one image


def choose_tile(height: int, width: int, tile: int | None) -> int | None:
    """The tile side to use: ``tile`` if given, :data:`DEFAULT_TILE` above :data:`TILE_ABOVE`."""
    if tile is not None:
        return int(tile)
    return DEFAULT_TILE if height * width > TILE_ABOVE else None


def restore(net, image: np.ndarray, sigma: float | None = None, *, tile: int | None = None,
            overlap: int | None = None, progress: Progress | None = None) -> np.ndarray:
    """Run a loaded network on one float32 image (HxW or HxWx3 in [0, 1]); same shape out.

    Args:
        net: a restorekit model (``in_channels``, ``multiple``, ``conditioned``) on its device.
        sigma: noise level on the [0, 1] scale; None = blind (estimated, for conditioned
            models). Models that are not conditioned ignore it.
        tile: tile side; None picks one by :func:`choose_tile`. ``overlap`` defaults to a
            quarter tile.
        progress: ``progress(done, total)`` after each tile (once, ``(1, 1)``, untiled).

    Returns float32, not clipped (``write_image`` clips and rounds). Equals
    ``restorekit.denoise(image, net, sigma)`` for images that are not tiled.
    """
    import torch

    from restorekit.infer.tiling import apply_padded, tiled_apply

    channels = 1 if image.ndim == 2 else image.shape[2]
    if net.in_channels != channels:
        kind = {1: "gray", 3: "colour"}
        raise RestorekitError(f"model expects {kind.get(net.in_channels, net.in_channels)} images, "
                              f"got a {kind.get(channels, channels)} image")
    conditioned = bool(getattr(net, "conditioned", False))
    if conditioned and sigma is None:
        from restorekit.estimate import estimate_sigma

        sigma = estimate_sigma(image)
    multiple = int(getattr(net, "multiple", 1))
    h, w = image.shape[:2]
    tile = choose_tile(h, w, tile)
    if tile is not None and (h > tile or w > tile):
        tile, overlap = _check_tiling(tile, overlap, multiple)
    else:
        tile = None

    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    chw = image[:, :, None] if image.ndim == 2 else image
    x = torch.from_numpy(np.ascontiguousarray(chw.transpose(2, 0, 1)))[None]  # [1, C, H, W]
    x = x.to(device=device, dtype=dtype)
    s = torch.full((1,), sigma, dtype=dtype, device=device) if conditioned else None
    fn = (lambda t: net(t, s)) if conditioned else (lambda t: net(t))

    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            if tile is None:
                y = apply_padded(fn, x, multiple)
                if progress is not None:
                    progress(1, 1)
            else:
                y = tiled_apply(fn, x, tile, overlap, multiple, progress=progress)
    finally:
        net.train(was_training)
    del x
    out = y[0].float().cpu().numpy()  # [C, H, W]
    del y
    return np.ascontiguousarray(out.transpose(1, 2, 0)).reshape(image.shape)


def _check_tiling(tile: int, overlap: int | None, multiple: int) -> tuple[int, int]:
    smallest = max(16, 2 * multiple)
    if tile < smallest:
        raise RestorekitError(f"--tile must be at least {smallest} pixels for this model, got {tile}")
    tile = tile // multiple * multiple  # what tiled_apply will use
    if overlap is None:
        overlap = tile // 4
    if not 0 <= overlap <= tile // 2:
        raise RestorekitError(f"--overlap must be between 0 and half the tile ({tile // 2}), got {overlap}")
    return tile, overlap


# ---------------------------------------------------------------------------------------
# many files


def denoise_file(job: Job, model_for: Callable[[int], object], sigma: float | None = None, *,
                 tile: int | None = None, overlap: int | None = None,
                 progress: Progress | None = None) -> Path:
    """Read ``job.source``, denoise, write ``job.target`` with the input's dtype, channels and alpha."""
    image, info = read_image(job.source)
    net = model_for(1 if image.ndim == 2 else image.shape[2])
    restored = restore(net, image, sigma, tile=tile, overlap=overlap, progress=progress)
    del image
    return write_image(job.target, restored, info)


def denoise_files(jobs: list[Job], model_for: Callable[[int], object], sigma: float | None = None, *,
                  tile: int | None = None, overlap: int | None = None,
                  on_start: Callable[[Job, int], None] | None = None,
                  on_tile: Progress | None = None,
                  on_done: Callable[[Job], None] | None = None,
                  on_error: Callable[[Job, str], None] | None = None) -> list[tuple[Job, str]]:
    """Denoise every job; return the ``(job, one-line reason)`` of those that failed.

    A file that cannot be read, does not fit the model or cannot be written is reported to
    ``on_error`` and skipped. A model that cannot be loaded stops the run
    (:class:`ModelLoadError`): every other file would fail the same way.
    """
    failures = []
    for index, job in enumerate(jobs):
        if on_start is not None:
            on_start(job, index)
        try:
            denoise_file(job, model_for, sigma, tile=tile, overlap=overlap, progress=on_tile)
        except ModelLoadError:
            raise
        except (RestorekitError, OSError, MemoryError) as exc:
            reason = _one_line(job.source, exc)
            failures.append((job, reason))
            if on_error is not None:
                on_error(job, reason)
            continue
        if on_done is not None:
            on_done(job)
    return failures


def _one_line(source: Path, exc: BaseException) -> str:
    """``exc`` as one line that names the file once."""
    if isinstance(exc, MemoryError):
        text = "out of memory (try a smaller --tile)"
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
        text = lines[0] if lines else type(exc).__name__
    return text if text.startswith(str(source)) else f"{source}: {text}"
