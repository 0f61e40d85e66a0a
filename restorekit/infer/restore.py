"""``denoise``: numpy in, numpy out, with any model restorekit can load.

The public ``restorekit.denoise`` and the ``restorekit denoise`` command are this function,
so the Python API and the CLI give the same output for the same arguments.

What it does around the network (:mod:`restorekit.infer.apply`):

- **dtypes**: uint8 / uint16 in gives the same dtype out (clipped and rounded); float in
  gives float32 out, *not* clipped (callers clip, ``write_image`` does for integer files);
- **range**: float images whose values lie within [-1, 2] are taken as [0, 1] data (noise
  may leave [0, 1]); any other float image (HDR, linear, scientific units) is mapped to
  [0, 1] by its finite minimum and maximum, restored, and mapped back, ``sigma`` with it;
- **non-finite pixels** (NaN, inf): refused with one line (``nan="refuse"``), or filled from
  their nearest finite neighbours before restoring and put back after (``nan="fill"``);
- **pixel-shuffle down-sampling** (``pd=2``; Zhou et al., "When AWGN-based Denoiser Meets
  Real Noises", AAAI 2020): the image is split into ``pd x pd`` sub-images, each denoised
  blind, and re-interleaved: spatially correlated camera noise is much whiter in the
  sub-images, so a Gaussian model sees the noise it was trained on;
- **self-ensemble** (``ensemble=2|4|8``): the mean of the network's outputs for that many
  flips/rotations of the image (:func:`~restorekit.infer.apply.run_network`).

>>> import restorekit as rk                                            # doctest: +SKIP
>>> clean = rk.denoise(noisy)                        # default model, blind  # doctest: +SKIP
>>> clean = rk.denoise(noisy_u8, "runs/dncnn25", sigma=15 / 255)      # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from restorekit.arrays import INTEGER_DTYPES, check_image, check_sigma, fill_nonfinite
from restorekit.errors import RestorekitError
from restorekit.infer.apply import Progress, check_ensemble, noise_level, run_network
from restorekit.infer.network import resolve_network

if TYPE_CHECKING:
    from restorekit.infer.auto import Choice

NAN_POLICIES = ("refuse", "fill")
UNIT_RANGE = (-1.0, 2.0)  # float images within this are [0, 1] data (noise may leave [0, 1])


def denoise(image: np.ndarray, model=None, sigma: float | None = None, *, strength: float = 1.0,
            tile: int | None = None, overlap: int | None = None, device: str | None = None,
            nan: str = "refuse", pd: int = 1, ensemble: int = 1, auto: bool = True,
            explain: Callable[[Choice], None] | None = None, progress: Progress | None = None) -> np.ndarray:
    """Denoise one image.

    Args:
        image: HxW or HxWxC (C = 1 or 3); float, uint8 or uint16.
        model: a shipped name, a path (``.safetensors``, run folder, foreign ``.pth``) or a
            loaded ``nn.Module`` (never moved). None with ``sigma`` None (and ``auto``):
            identify the noise and pick the method and level (:mod:`restorekit.infer.auto`);
            None with a sigma: the shipped Gaussian model for the channels.
        sigma: noise level on the [0, 1] scale (25/255 for "25") of the image as given
            (of its own range for float images outside [0, 1]). None: blind.
        strength: multiplies the noise level a conditioned model is told (below 1 keeps
            more texture, above 1 removes more); for other models, blends the output with
            the input (0 = the input).
        tile, overlap: overlapping tiles to bound memory (automatic above 2 megapixels).
        device: where a named model is loaded (None: CPU; a module stays where it is).
        nan: ``"refuse"`` (default) or ``"fill"`` for images with NaN or infinite pixels.
        pd: pixel-shuffle down-sampling factor (1: off; 2 helps Gaussian models on real noise).
        ensemble: 1, 2, 4 or 8 flips/rotations of the image through the network, averaged
            (about that many times slower; 8 gave +0.06 dB on BSD68 and +0.25 dB on Nam25's
            real photos).
        auto: with no model and no sigma, identify the noise first (False: the Gaussian
            model, its level estimated).
        explain: called with the :class:`~restorekit.infer.auto.Choice` made in auto mode.
        progress: ``progress(done, total)`` over tiles.

    Returns an array of the input's shape: the input's integer dtype, else float32.
    """
    check_image(image)
    strength = _check_strength(strength)
    if nan not in NAN_POLICIES:
        raise RestorekitError(f"nan must be one of {', '.join(NAN_POLICIES)}, got {nan!r}")
    if isinstance(pd, bool) or not isinstance(pd, (int, np.integer)) or not 1 <= pd <= 4:
        raise RestorekitError(f"pd (pixel-shuffle down-sampling) must be 1, 2, 3 or 4, got {pd!r}")
    ensemble = check_ensemble(ensemble)
    sigma = check_sigma(sigma, unit=False)
    channels = 1 if image.ndim == 2 else image.shape[2]
    identify = auto and model is None and sigma is None
    net = None if identify else resolve_network(model, channels, device)

    arr = _as_float(image)
    bad = None if image.dtype in INTEGER_DTYPES else ~np.isfinite(arr)
    if bad is not None and bad.any():
        if nan == "refuse":
            raise RestorekitError(f"image has {int(bad.sum())} non-finite pixel value(s) (NaN or inf); "
                                  "pass nan='fill' (CLI: --nan fill) to restore around them")
        arr = fill_nonfinite(arr, bad)
    else:
        bad = None
    lo, scale = _range(arr)
    if scale != 1.0 or lo != 0.0:
        arr = (arr - lo) / scale
        sigma = None if sigma is None else sigma / scale
    check_sigma(sigma)  # now on the [0, 1] scale of the normalised image

    out = None
    if identify:
        net, sigma, pd, out = _identified(arr, channels, device, pd, explain)
    if out is None and pd > 1:
        out = _pixel_shuffle_denoise(net, arr, sigma, strength, pd, tile=tile, overlap=overlap, ensemble=ensemble)
    elif out is None:
        out = _denoise_float(net, arr, sigma, strength, tile=tile, overlap=overlap, progress=progress,
                             ensemble=ensemble)

    if scale != 1.0 or lo != 0.0:
        out = out * scale + lo
    if bad is not None:
        out[bad] = image[bad]
    if image.dtype in INTEGER_DTYPES:
        from restorekit.io import from_float32

        return from_float32(out, image.dtype)
    return out.astype(np.float32, copy=False)


def _identified(arr: np.ndarray, channels: int, device, pd: int, explain):
    """Auto mode: ``(network, sigma, pd, None)`` to run, or ``(None, None, 1, output)`` when a
    classical method (the median filter, for impulses) has restored the image already."""
    from restorekit.infer.auto import choose

    choice = choose(arr)
    if explain is not None:
        explain(choice)
    if choice.method == "median":
        from restorekit.classical import get_method

        return None, None, 1, get_method("median")(arr, None)
    return resolve_network(choice.method, channels, device), choice.sigma, max(pd, choice.pd), None


def _denoise_float(net, arr: np.ndarray, sigma, strength: float, *, tile=None, overlap=None,
                   progress=None, ensemble: int = 1) -> np.ndarray:
    """float32 HxW(xC) in [0, 1] -> the network's output, same shape, float32."""
    import torch

    level = noise_level(net, arr, sigma, strength)
    chw = arr[:, :, None] if arr.ndim == 2 else arr
    x = torch.from_numpy(np.ascontiguousarray(chw.transpose(2, 0, 1)))[None]  # [1, C, H, W]
    y = run_network(net, x, level, tile=tile, overlap=overlap, progress=progress, ensemble=ensemble)
    out = y[0].numpy().transpose(1, 2, 0).reshape(arr.shape)
    if not getattr(net, "conditioned", False) and strength != 1.0:
        out = arr + strength * (out - arr)
    return np.ascontiguousarray(out, dtype=np.float32)


def _pixel_shuffle_denoise(net, arr: np.ndarray, sigma, strength: float, factor: int, **options) -> np.ndarray:
    """Denoise each of the ``factor**2`` interleaved sub-images on its own and re-interleave."""
    out = np.empty_like(arr)
    for i in range(factor):
        for j in range(factor):
            sub = np.ascontiguousarray(arr[i::factor, j::factor])
            if min(sub.shape[:2]) < 2:
                raise RestorekitError(f"image too small for pd={factor} ({arr.shape[0]}x{arr.shape[1]})")
            out[i::factor, j::factor] = _denoise_float(net, sub, sigma, strength, **options)
    return out


def _as_float(image: np.ndarray) -> np.ndarray:
    if image.dtype in INTEGER_DTYPES:
        from restorekit.io import to_float32

        return to_float32(image)
    return np.asarray(image, dtype=np.float32)


def _range(arr: np.ndarray) -> tuple[float, float]:
    """``(low, scale)`` mapping a float image to [0, 1]; ``(0, 1)`` for [0, 1] data."""
    low, high = float(arr.min()), float(arr.max())
    if UNIT_RANGE[0] <= low and high <= UNIT_RANGE[1]:
        return 0.0, 1.0
    return low, max(high - low, np.finfo(np.float32).tiny)


def _check_strength(strength) -> float:
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise RestorekitError(f"strength must be a number (1 = as trained), got {strength!r}") from None
    if not 0 <= value <= 4 or value != value:
        raise RestorekitError(f"strength must be between 0 and 4, got {strength!r}")
    return value
