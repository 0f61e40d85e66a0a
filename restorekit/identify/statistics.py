"""The statistics behind :func:`restorekit.identify.identify_noise`, measured on one image.

:func:`measure` returns them as a dict (levels on the [0, 1] scale); :func:`fit_curve` fits
a noise model to the noise curve. The papers each rests on are named where it is used.
"""

from __future__ import annotations

import numpy as np

from restorekit.estimate import box_sum, noise_variance, texture_quantile

IMPULSE_GAP = 0.2  # an impulse differs from its 3x3 median by more than this
IMPULSE_MIN = 0.004  # estimated amount below which impulses are ignored
PATCH = 7
BINS = 8
MIN_PATCHES = 200
MAX_PATCHES = 40_000  # patch positions are subsampled on a regular grid down to this many
ROUNDS = 4


def measure(x: np.ndarray) -> dict:
    """The statistics :func:`restorekit.identify.decide` rests on (levels on the [0, 1] scale)."""
    channel = x if x.ndim == 2 else x[..., 1]  # green: the best-sampled channel of a Bayer camera
    impulses = _impulses(x)
    quality, steps = _jpeg_quality(x)
    bins, quiet = _noise_curve(channel)
    f = {"colour": x.ndim == 3, "jpeg_quality": quality, "jpeg_steps": steps, "bins": bins,
         "shape": float(_camera_shape(channel).mean()),
         # values outside [0, 1]: float data whose noise was never clipped (as the published
         # tables' noise), so the noise curve is not corrected for clipping
         "clipped": bool(x.min() >= 0 and x.max() <= 1)}
    f["cfa"], f["cfa_level"] = cfa_traces(x) if x.ndim == 3 else (1.0, 0.0)
    f.update({k: v for k, v in impulses.items() if k != "repaired"})
    f["full"] = float(np.sqrt(quiet))  # the quietest patches: a clean image has some
    if f["impulse_amount"] >= IMPULSE_MIN:
        repaired = impulses["repaired"]
        f["impulse_rest"] = _quiet_level(repaired if x.ndim == 2 else repaired[..., 1])
    return f


def _quiet_level(channel: np.ndarray) -> float:
    """Noise level of the weak-texture patches of the whole channel (as estimate_sigma)."""
    return float(np.sqrt(_noise_curve(channel, bins=0, most=MAX_PATCHES // 4)[1]))


def _impulses(x: np.ndarray) -> dict:
    """Salt-and-pepper statistics: estimated amount, salt/pepper balance, the repaired image."""
    # Medians only where a sample is 0 or 1 (few, unless there are many impulses).
    x3 = x if x.ndim == 3 else x[..., None]
    padded = np.pad(x3, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    rows, cols, chans = np.nonzero((x3 == 0) | (x3 == 1))
    med = np.median(np.stack([padded[rows + i, cols + j, chans] for i in range(3) for j in range(3)], 1), 1)
    value = x3[rows, cols, chans]
    pepper = (value == 0) & (med > IMPULSE_GAP)
    salt = (value == 1) & (med < 1 - IMPULSE_GAP)
    # Each kind hits amount/2 of the samples, but shows only where the neighbourhood is far
    # from it: the share of such places is taken from the samples that are not 0 or 1.
    inner = x3[(x3 > 0) & (x3 < 1)]
    n = x3.size
    rate_pepper = pepper.sum() / max((inner > IMPULSE_GAP).mean() * n, 1) if inner.size else 0.0
    rate_salt = salt.sum() / max((inner < 1 - IMPULSE_GAP).mean() * n, 1) if inner.size else 0.0
    repaired = x3.copy()
    hit = pepper | salt
    repaired[rows[hit], cols[hit], chans[hit]] = med[hit]
    return {
        "impulse_amount": float(rate_pepper + rate_salt),
        "impulse_balance": float(min(rate_pepper, rate_salt) / max(rate_pepper, rate_salt, 1e-12)),
        "repaired": repaired if x.ndim == 3 else repaired[..., 0],
    }


def cfa_traces(x: np.ndarray) -> tuple[float, float]:
    """Colour filter array traces: (contrast, level) of residual energy over the 2x2 phases.

    Demosaicking interpolates most samples of each colour from their neighbours, so the
    residual ``pixel - mean of its 4 neighbours`` is much weaker at interpolated sites than
    at recorded ones; white noise and image texture spread it evenly (Popescu & Farid,
    "Exposing digital forgeries in color filter array interpolated images", IEEE TSP 2005).
    contrast: the largest over channels of max/min energy over the phases (1: even), on
    residuals trimmed at their 80th percentile (edges would dominate). level: the root of
    the mean over channels of max - min energy, untrimmed, where texture cancels and the
    camera noise remains (RMS = CAMERA_RMS x level, measured on training images).
    """
    contrast, spread = 1.0, []
    floor = (0.5 / 255) ** 2  # 8-bit rounding alone
    for c in range(x.shape[2]):
        v = x[..., c]
        r2 = (v[1:-1, 1:-1] - (v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:]) / 4) ** 2
        energy = np.array([r2[a::2, b::2].mean() for a in (0, 1) for b in (0, 1)])
        spread.append(energy.max() - energy.min())
        r2 = np.minimum(r2, np.quantile(r2, 0.8))
        energy = np.array([r2[a::2, b::2].mean() for a in (0, 1) for b in (0, 1)]) + floor
        contrast = max(contrast, float(energy.max() / energy.min()))
    return contrast, float(np.sqrt(np.mean(spread)))


# The IJG (libjpeg, Pillow) luminance table at quality 50, natural order (JPEG Annex K).
_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
                  92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]).reshape(8, 8)
_SCALE = np.array([5000 // q if q < 50 else 200 - 2 * q for q in range(1, 101)])  # libjpeg's quality scaling
_TABLES = np.clip((_LUMA[None] * _SCALE[:, None, None] + 50) // 100, 1, 255)  # [100, 8, 8], quality 1..100
_FREQS = tuple((u, v) for u in range(8) for v in range(8) if u + v <= 5)  # where most coefficients are not 0
_STEP_TOL = 0.8  # a coefficient fits a step if within this of a multiple (decoder rounding ~0.3-0.5)
_STEP_FIT = 0.5  # fraction of coefficients, beyond chance, that must fit
_MAX_COEFS = 1500


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix [n, n] (the JPEG transform is this one, level-shifted)."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    d = np.sqrt(2 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2)
    return d


_D8 = _dct_matrix(8)


def _jpeg_quality(x: np.ndarray) -> tuple[float | None, dict]:
    """IJG quality whose luminance table fits the block DCT coefficients, or None."""
    y = x if x.ndim == 2 else x @ np.array([0.299, 0.587, 0.114])  # JFIF luminance
    h, w = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    blocks = (y[:h, :w] * 255 - 128).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    # Decoding clips at 0 and 255 (in R, G and B for colour), which moves a block's coefficients.
    clipped = (x[:h, :w] == 0) | (x[:h, :w] == 1)
    clipped = (clipped if x.ndim == 2 else clipped.any(2)).reshape(h // 8, 8, w // 8, 8).any((1, 3)).ravel()
    if (~clipped).sum() >= 30:
        blocks = blocks[~clipped]
    coefs = _D8 @ blocks @ _D8.T  # [N, 8, 8]
    steps = {}
    for u, v in _FREQS:
        c = coefs[:, u, v]
        c = c[np.abs(c) > 2 * _STEP_TOL][:_MAX_COEFS]  # zeros fit every step
        if c.size < 30:
            continue
        q = np.unique(_TABLES[:, u, v])
        q = q[q > 2 * _STEP_TOL + 1][:, None]  # smaller steps cannot be told from no quantisation
        fits = (np.abs(c - q * np.round(c / q)) <= _STEP_TOL).mean(1)
        chance = 2 * _STEP_TOL / q[:, 0]
        ok = (fits - chance) / (1 - chance) >= _STEP_FIT
        steps[(u, v)] = int(q[ok, 0].max()) if ok.any() else 1  # multiples fail, so the largest is the step
    found = {k: s for k, s in steps.items() if s > 1}
    if len(found) < 3:
        return None, {f"{u}{v}": s for (u, v), s in steps.items()}
    tables = np.stack([_TABLES[:, u, v] for u, v in steps], 1).astype(float)  # [100, P]
    est = np.array(list(steps.values()), dtype=float)
    # an undetected step (1) is consistent with any table step of 2 or less
    err = np.where(est > 1, np.abs(np.log(tables) - np.log(est)), np.maximum(0, np.log(tables / 2))).sum(1)
    best = np.flatnonzero(err == err.min()) + 1
    return float(np.round(best.mean())), {f"{u}{v}": s for (u, v), s in steps.items()}


_D7 = np.kron(_dct_matrix(PATCH), _dct_matrix(PATCH))[1:]  # [48, 49]: a patch's DCT without its mean


def _noise_curve(channel: np.ndarray, bins: int = BINS, most: int = MAX_PATCHES) -> tuple[np.ndarray, float]:
    """Noise against mean intensity: [bins, 4] rows (mean, variance, patches, skewness), and
    the variance of the quietest patches of the whole channel.

    Patches are binned by their mean (equal counts); in each bin the weak-texture patches
    are selected and the eigenvalue criterion applied, as :func:`restorekit.estimate
    .estimate_sigma` does for the whole image. The patches' mean is dropped (their DCT
    without DC): binning by the noisy mean would otherwise shrink the noise along it.
    Skewness is that of the residual ``pixel - mean of its 4 neighbours`` at 9 pixels of
    each selected patch: 0 for symmetric noise, below 0 for noise passed through a concave
    curve (gamma), above for Poisson noise.
    """
    p = PATCH
    x = channel.astype(np.float64)
    gh, gv = (x[:, 2:] - x[:, :-2]) / 2, (x[2:, :] - x[:-2, :]) / 2
    texture = box_sum(gh * gh, p, p - 2) + box_sum(gv * gv, p - 2, p)  # [H-p+1, W-p+1]
    means = box_sum(x, p, p) / (p * p)
    stride = int(np.ceil(np.sqrt(texture.size / most)))  # every patch is not needed: time
    windows = np.lib.stride_tricks.sliding_window_view(x, (p, p))[::stride, ::stride]
    patches = _D7 @ windows.transpose(2, 3, 0, 1).reshape(p * p, -1)  # [48, N]
    texture, means = texture[::stride, ::stride].ravel(), means[::stride, ::stride].ravel()
    residual = x[1:-1, 1:-1] - (x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:]) / 4  # [H-2, W-2]
    inner = np.lib.stride_tricks.sliding_window_view(residual, (p - 2, p - 2))[::stride, ::stride, ::2, ::2]
    inner = inner.transpose(2, 3, 0, 1).reshape(9, -1)  # [9, N]: pixels 1, 3, 5 of each patch's rows and columns
    quiet = _select(patches, texture)
    edges = np.quantile(means, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, means, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        index = np.flatnonzero(which == b)
        if index.size < MIN_PATCHES:
            continue
        var, keep = _select(patches[:, index], texture[index])
        r = inner[:, index[keep]].ravel()
        r = r - r.mean()
        skew = float((r**3).mean() / max((r**2).mean(), 1e-20) ** 1.5)
        rows.append((means[index[keep]].mean(), var, keep.sum(), skew))
    return np.array(rows).reshape(-1, 4), quiet[0]


def _select(patches: np.ndarray, texture: np.ndarray) -> tuple[float, np.ndarray]:
    """Weak-texture selection (Liu et al. 2013) with Chen et al.'s criterion: (variance, kept)."""
    tau = texture_quantile(PATCH, 0.99)
    keep = np.ones(texture.size, dtype=bool)
    var = noise_variance(patches)
    for _ in range(ROUNDS):
        new = texture < var * tau
        if new.sum() < MIN_PATCHES or new.all():
            break
        keep = new
        var = noise_variance(patches[:, keep])
    return max(var, 0.0), keep


def _camera_shape(mean: np.ndarray) -> np.ndarray:
    """Output variance per unit of shot variance of the gray camera path at sRGB ``mean``.

    y = S((g L)^(1/2.2)), S the smoothstep tone curve, g = 1/0.8 the mean brightness gain:
    var_y = (dy/dL)^2 shot L = g S'(x)^2 x^-0.2 shot / 2.2^2, with x = S^-1(y).
    """
    x = 0.5 - np.sin(np.arcsin(1 - 2 * np.clip(mean, 1e-4, 1 - 1e-4)) / 3)
    return (6 * x * (1 - x)) ** 2 * x**-0.2 / (2.2**2 * 0.8)


MODELS = {  # variance = coefficients . columns(mean), coefficients >= 0
    "gaussian": lambda m: [np.ones_like(m)],
    "poisson-gaussian": lambda m: [np.ones_like(m), m],
    "speckle": lambda m: [np.ones_like(m), m**2],
    "camera": lambda m: [np.ones_like(m), _camera_shape(m)],
}


def _clipped(mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of clip(N(mean, std^2), 0, 1): what a file holds (Foi et al. 2009)."""
    from scipy.special import ndtr

    std = np.maximum(std, 1e-9)
    a, b = -mean / std, (1 - mean) / std
    pa, pb = np.exp(-a * a / 2) / np.sqrt(2 * np.pi), np.exp(-b * b / 2) / np.sqrt(2 * np.pi)
    inside = ndtr(b) - ndtr(a)
    above = 1 - ndtr(b)
    m = mean * inside + std * (pa - pb) + above
    m2 = mean**2 * inside + 2 * mean * std * (pa - pb) + std**2 * (inside + a * pa - b * pb) + above
    return m, np.maximum(m2 - m * m, 0.0)


def fit_curve(bins: np.ndarray, model: str, clipped: bool = True) -> dict | None:
    """Fit one model to the noise curve, allowing for clipping at 0 and 1 (unless the image
    was not ``clipped``); None if too few bins.

    The model gives the variance of the noise before clipping at each true intensity; the
    bins measure it after. Alternate: fit the coefficients (non-negative least squares in
    relative error) on the bins' variances corrected for clipping, then find each bin's
    true intensity and its clipping loss under that fit.
    """
    from scipy.optimize import nnls

    clip = _clipped if clipped else (lambda mean, std: (mean, std**2))

    bins = bins[bins[:, 1] > 0] if len(bins) else bins
    if len(bins) < 3:
        return None
    observed, var = bins[:, 0], bins[:, 1]
    columns = MODELS[model]
    y, true_var = observed.copy(), var.copy()
    for _ in range(4):
        a = np.stack(columns(y), 1)  # [bins, terms]
        coef, _ = nnls(a / true_var[:, None], np.ones_like(y))
        y = observed.copy()
        for _ in range(8):  # the true intensity whose clipped mean is the observed one
            std = np.sqrt(np.maximum(np.stack(columns(y), 1) @ coef, 0))
            y = np.clip(y + observed - clip(y, std)[0], 0, 1)
        std = np.sqrt(np.maximum(np.stack(columns(y), 1) @ coef, 1e-12))
        predicted = clip(y, std)[1]
        true_var = var / np.clip(predicted / std**2, 0.05, 1)
    error = float(np.sqrt(np.mean((predicted / var - 1) ** 2)))
    return {"coef": coef, "error": error, "predicted": predicted}
