"""A network on a tensor of any size: the noise level it is told, padding, and tiling.

The one implementation of each rule that every caller (the Python API, the CLI, training
validation, evaluate, plug-and-play, the server) goes through:

- :func:`noise_level`: given, else the level the model stored at training (``blind_sigma``,
  for non-Gaussian noise), else the blind estimate; times ``strength``;
- :func:`plan_tiles`: whether to tile and with which tile and overlap (one rounding rule:
  the tile is rounded down to the model's multiple first, the default overlap is a quarter
  of the rounded tile; images above :data:`TILE_ABOVE` pixels are tiled automatically);
- :func:`run_network`: eval mode, inference mode, padded or tiled, the model never moved;
  optionally a geometric self-ensemble (:data:`ENSEMBLES`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from restorekit.errors import RestorekitError

Progress = Callable[[int, int], None]

# Above this many pixels an image goes through tiles even when no tile is asked for.
# Untiled, a FastUNet at 2 MP holds a few hundred MB of activations and a 17-layer DnCNN
# about 1.5 GB; tiles of DEFAULT_TILE keep any of them to tens of MB, at a few percent of
# extra compute.
TILE_ABOVE = 2_000_000
DEFAULT_TILE = 512


# Geometric self-ensemble (as KAIR's and SwinIR's "x8" test mode): the image through the
# network under several of the 8 flips/rotations (restorekit.data.dihedral's k), each output
# turned back, the mean kept. Ordered so that each prefix is as varied as can be: 2 = the
# image and its transpose (k=5), 4 adds the 180-degree turn and the anti-transpose.
DIHEDRAL_ORDER = (0, 5, 2, 7, 1, 3, 4, 6)
ENSEMBLES = (1, 2, 4, 8)

SELF_CALIBRATED = "self-calibrated"  # a model's blind_level: found by its own residuals
CALIBRATION_START, CALIBRATION_STEPS, CALIBRATION_CROP, CALIBRATION_BLOCK = 50 / 255, 3, 512, 16


def noise_level(net, image: np.ndarray, sigma: float | None, strength: float = 1.0) -> float | None:
    """The level a network is told, on the [0, 1] scale; None for networks that take none.

    ``sigma`` given wins. Blind (None), by what the model's metadata says: ``blind_level:
    self-calibrated`` (real-noise models: :func:`calibrated_level`), else ``blind_sigma``, the
    level its training measured for a non-Gaussian noise (the Gaussian estimator misreads
    salt-and-pepper or speckle), else the estimate of the image's Gaussian noise level.
    ``strength`` scales the result: below 1 keeps more texture, above 1 removes more noise.
    """
    if not getattr(net, "conditioned", False):
        return None
    meta = getattr(net, "meta", None) or {}
    if sigma is None:
        stored = meta.get("blind_sigma")
        if meta.get("blind_level") == SELF_CALIBRATED:
            sigma = calibrated_level(net, image)
        elif stored is not None:
            sigma = float(stored)
        else:
            from restorekit.estimate import estimate_sigma

            sigma = float(estimate_sigma(image))
    return float(sigma) * float(strength)


def calibrated_level(net, image: np.ndarray) -> float:
    """The noise RMS of a real photo, measured by the model's own residual.

    Camera noise after demosaicking and JPEG is spatially correlated: the high-frequency
    statistics that Gaussian estimators read hold little of it (they read 0-1 grey levels
    where the RMS is 4). A model trained to be told the noise's RMS removes about what it
    is told, and texture besides when told too much; so, starting from a high level, the RMS
    of what it removes comes down towards the noise's own: ``s <- rms(y - f(y, s))``,
    :data:`CALIBRATION_STEPS` times on (a central crop of) the image. The removed texture
    gathers on edges while noise is everywhere, so the RMS is the median over
    :data:`CALIBRATION_BLOCK`-pixel blocks, not the mean. Checked on synthetic noise of
    held-out training images (``benchmarks/real_level.py``), never on a test set.
    """
    import torch
    import torch.nn.functional as F

    h, w = image.shape[:2]
    half = CALIBRATION_CROP // 2
    crop = image[max(0, h // 2 - half):h // 2 + half, max(0, w // 2 - half):w // 2 + half]
    chw = crop[:, :, None] if crop.ndim == 2 else crop
    x = torch.from_numpy(np.ascontiguousarray(chw.transpose(2, 0, 1)))[None]  # [1, C, h, w]
    block = max(1, min(CALIBRATION_BLOCK, min(crop.shape[:2]) // 2))
    level = CALIBRATION_START
    for _ in range(CALIBRATION_STEPS):
        power = (x - run_network(net, x, level)).pow(2).mean(dim=1, keepdim=True)  # [1, 1, h, w]
        level = float(F.avg_pool2d(power, block).median().sqrt())
    return level


def plan_tiles(height: int, width: int, multiple: int, tile: int | None = None,
               overlap: int | None = None) -> tuple[int, int] | None:
    """``(tile, overlap)`` to use for an image of this size, or None to run it whole."""
    if tile is None:
        if height * width <= TILE_ABOVE:
            return None
        tile = DEFAULT_TILE
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)):
        raise RestorekitError(f"tile must be a whole number of pixels, got {tile!r}")
    smallest = max(16, 2 * multiple)
    if tile < smallest:
        raise RestorekitError(f"tile must be at least {smallest} pixels for this model, got {tile}")
    tile = int(tile) // multiple * multiple
    if height <= tile and width <= tile:
        return None
    if overlap is None:
        overlap = tile // 4
    if isinstance(overlap, bool) or not isinstance(overlap, (int, np.integer)) or not 0 <= overlap <= tile // 2:
        raise RestorekitError(f"overlap must be between 0 and half the tile ({tile // 2}), got {overlap!r}")
    return tile, int(overlap)


def check_ensemble(ensemble) -> int:
    """The number of flips/rotations averaged, checked: one of :data:`ENSEMBLES`."""
    if isinstance(ensemble, bool) or not isinstance(ensemble, (int, np.integer)) or ensemble not in ENSEMBLES:
        *most, last = map(str, ENSEMBLES)
        raise RestorekitError(f"ensemble must be {', '.join(most)} or {last} (flips/rotations averaged), "
                              f"got {ensemble!r}")
    return int(ensemble)


def run_network(net, x, sigma: float | None = None, *, tile: int | None = None, overlap: int | None = None,
                progress: Progress | None = None, ensemble: int = 1):
    """``net`` on ``x`` ``[1, C, H, W]`` (any H, W) on the network's own device and dtype.

    Returns ``[1, C, H, W]`` float32 on the CPU. The network is put in eval mode for the
    call and back in its former mode after; it is never moved. ``ensemble`` > 1 averages
    the outputs for that many of the 8 flips/rotations of ``x`` (:data:`DIHEDRAL_ORDER`): about
    ``ensemble`` times the time, for a few hundredths to a few tenths of a dB.
    """
    ensemble = check_ensemble(ensemble)
    if ensemble == 1:
        return _run_once(net, x, sigma, tile=tile, overlap=overlap, progress=progress)
    from restorekit.data.patches import dihedral, undo_dihedral

    total = None
    for i, k in enumerate(DIHEDRAL_ORDER[:ensemble]):
        step = None if progress is None else (lambda done, n, i=i: progress(i * n + done, ensemble * n))
        y = undo_dihedral(_run_once(net, dihedral(x, k), sigma, tile=tile, overlap=overlap, progress=step), k)
        total = y if total is None else total.add_(y)
    return total.div_(ensemble)


def _run_once(net, x, sigma, *, tile, overlap, progress):
    import torch

    from restorekit.infer.network import network_device
    from restorekit.infer.tiling import apply_padded, tiled_apply

    multiple = int(getattr(net, "multiple", 1))
    plan = plan_tiles(x.shape[-2], x.shape[-1], multiple, tile, overlap)
    param = next(net.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    x = x.to(device=network_device(net), dtype=dtype)
    if getattr(net, "conditioned", False):
        s = torch.full((x.shape[0],), 0.0 if sigma is None else sigma, dtype=dtype, device=x.device)
        fn = lambda t: net(t, s)  # noqa: E731
    else:
        fn = lambda t: net(t)  # noqa: E731
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            if plan is None:
                y = apply_padded(fn, x, multiple)
                if progress is not None:
                    progress(1, 1)
            else:
                y = tiled_apply(fn, x, plan[0], plan[1], multiple, progress=progress)
    finally:
        net.train(was_training)
    return y.float().cpu()
