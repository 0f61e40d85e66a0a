"""``denoise``: numpy in, numpy out, with any model restorekit can load.

>>> import restorekit as rk                                            # doctest: +SKIP
>>> clean = rk.denoise(noisy, "runs/dncnn25")                         # doctest: +SKIP
>>> clean = rk.denoise(noisy_u8, rk.load_model("unet.gray"), sigma=15 / 255)   # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from restorekit.arrays import INTEGER_DTYPES, check_image, check_sigma
from restorekit.errors import RestorekitError
from restorekit.io import from_float32, to_float32



def default_model(channels: int) -> str:
    """The shipped model used when ``denoise`` gets no ``model``: a CPU-fast conditioned net."""
    if channels == 1:
        return "fastunet.gray"
    if channels == 3:
        return "fastunet.color"
    raise RestorekitError(f"no default model for {channels}-channel images (expected 1 or 3)")


def denoise(image: np.ndarray, model=None, sigma: float | None = None, *, tile: int | None = None,
            device: str = "cpu") -> np.ndarray:
    """Denoise one image.

    Args:
        image: HxW or HxWxC (C = 1 or 3); float in [0, 1], or uint8 / uint16.
        model: a shipped name, a path (``.safetensors``, run directory, foreign ``.pth``) or a
            loaded ``nn.Module`` (moved to ``device``); None picks ``default_model``. Load a
            model once with ``load_model`` when denoising many images.
        sigma: noise level on the [0, 1] scale (25/255 for "25"). Noise-conditioned models
            use it (None: estimated from the image); other models ignore it.
        tile: process in overlapping tiles of this side (quarter-tile overlap) to bound memory.
        device: torch device to run on.

    Returns:
        An array of the input's shape. Float input gives float output, not clipped (callers
        clip); uint8 / uint16 input gives the same dtype, clipped and rounded.
    """
    import torch

    arr = to_float32(check_image(image))  # float32 [0, 1], HxW or HxWxC
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    net = _resolve(model, channels, device)
    if net.in_channels != channels:
        kind = {1: "gray", 3: "colour"}
        raise RestorekitError(f"model expects {kind.get(net.in_channels, net.in_channels)} images, "
                              f"got a {kind.get(channels, channels)} image ({channels} channels)")
    sigma = check_sigma(sigma)
    if getattr(net, "conditioned", False) and sigma is None:
        sigma = blind_level(net, arr)

    param = next(net.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    chw = arr[:, :, None] if arr.ndim == 2 else arr
    x = torch.from_numpy(np.ascontiguousarray(chw.transpose(2, 0, 1)))[None].to(device=device, dtype=dtype)
    s = None if sigma is None else torch.full((1,), sigma, dtype=dtype, device=device)
    y = run(net, x, s, tile=tile)  # [1, C, H, W]
    out = y[0].float().cpu().numpy().transpose(1, 2, 0).reshape(arr.shape)
    return from_float32(out, image.dtype) if image.dtype in INTEGER_DTYPES else out.astype(image.dtype, copy=False)


def blind_level(net, image: np.ndarray) -> float:
    """The level a conditioned model is told when the user gives none: the one its training
    measured for a non-Gaussian noise (``blind_sigma`` in its metadata), else the blind
    estimate of the image's Gaussian noise level."""
    stored = (getattr(net, "meta", None) or {}).get("blind_sigma")
    if stored is not None:
        return float(stored)
    from restorekit.estimate import estimate_sigma

    return float(estimate_sigma(image))


def run(net, x, sigma=None, *, tile: int | None = None, progress=None):
    """The network on a ``[1, C, H, W]`` tensor of any size, in eval mode and inference mode."""
    import torch

    from restorekit.infer.tiling import apply_padded, tiled_apply

    multiple = int(getattr(net, "multiple", 1))
    fn = (lambda t: net(t, sigma)) if getattr(net, "conditioned", False) else (lambda t: net(t))
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            if tile is None or (x.shape[-2] <= tile and x.shape[-1] <= tile):
                return apply_padded(fn, x, multiple)
            tile = int(tile)
            if tile < max(16, 2 * multiple):
                raise RestorekitError(f"tile must be at least {max(16, 2 * multiple)} pixels, got {tile}")
            return tiled_apply(fn, x, tile, tile // 4, multiple, progress=progress)
    finally:
        net.train(was_training)


def _resolve(model, channels: int, device: str):
    from torch import nn

    from restorekit.models import load_model

    if model is None:
        model = default_model(channels)
    if isinstance(model, nn.Module):
        if not hasattr(model, "in_channels"):
            raise RestorekitError("model has no 'in_channels': build it with restorekit.models.create_model")
        return model.to(device)
    if isinstance(model, (str, os.PathLike)):
        return load_model(model, device=device)
    raise RestorekitError(f"model must be a name, a path or an nn.Module, got {type(model).__name__}")
