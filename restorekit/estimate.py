"""Blind estimation of the level of additive white Gaussian noise in a single image.

Blind denoising (``sigma=None``) rests on this number, so it must be close (a few tenths of
a grey level on the 0-255 scale) on ordinary photographs, textures included. Two published
ideas are combined, because each alone is biased on textured images:

1. **Weak-texture patches** (Liu, Tanaka & Okutomi, "Single-image noise level estimation for
   blind denoising", IEEE TIP 2013): a patch of pure noise has a gradient energy
   ``||D y||^2`` that follows a Gamma law scaled by sigma^2; patches above that law's
   ``CONFIDENCE`` quantile hold texture and are dropped. Estimate, re-threshold, repeat.
2. **The eigenvalue criterion** (Chen, Zhu & Heng, "An Efficient Statistical Method for Image
   Noise Level Estimation", ICCV 2015): among the eigenvalues of the patch covariance, the
   ones due to noise alone are those whose mean equals their median; sigma^2 is that mean.
   Liu's own smallest eigenvalue is biased low (the Marchenko-Pastur spread of a sample
   covariance), by more than 1 grey level at sigma 75; the mean of the noise eigenvalues
   much less so (0.4% on pure noise).

The constants below were chosen on training images; docs/classical.md ("Noise-level
estimation") gives the error on Set12, BSD68 and CBSD68 beside scikit-image's wavelet
estimator, measured by ``scripts/measure_estimate.py``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> flat = 0.5 + rng.normal(0, 25 / 255, (128, 128))
>>> round(estimate_sigma(flat) * 255)
25
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from restorekit.errors import RestorekitError

# estimate_sigma, and the building blocks restorekit.identify measures noise curves with.
__all__ = ["box_sum", "estimate_sigma", "noise_variance", "texture_quantile"]

# CONFIDENCE, ROUNDS and BIAS were chosen on training images (Train400 and CBSD432 converted
# to gray, paper-protocol noise at sigma 5-75) among a handful of settings, as
# scripts/measure_estimate.py --confidence C --rounds R --bias B does; see docs/classical.md.
PATCH = 7  # patch side: 49-dimensional patches, as in Liu et al.
CONFIDENCE = 0.99  # a noise-only patch is kept with this probability per round
ROUNDS = 6  # estimate -> select -> estimate ... (settles within 3-5 rounds)
# Both the selection (it drops the noisiest 1% of flat patches) and Chen's criterion (the
# noise eigenvalues' spread is skewed) shrink the estimate: by 1.0% on pure noise. Texture
# that slips through the selection inflates it. Dividing by 0.995 balances the two.
BIAS = 0.995
# Patches enough for a 49x49 covariance: above this many positions every s-th row and column
# is taken, s the smallest that brings the count under it (a 512x512 channel: every third).
MAX_PATCHES = 40_000
# Larger images are estimated on CROPS x CROPS separate crops of CROP pixels spread over the
# image, and the median of those estimates is taken: an odd textured crop does not move the
# result, and every crop is dense enough to be sampled at every second position.
CROPS_ABOVE = 1_048_576
CROP = 256
CROPS = 4
# Rows: the chroma axes of an orthonormal opponent colour transform (R - G, R + G - 2B).
_CHROMA = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.array([[np.sqrt(2)], [np.sqrt(6)]])


def estimate_sigma(image: np.ndarray) -> float:
    """Standard deviation of additive white Gaussian noise in ``image``, on the [0, 1] scale.

    ``image`` is HxW (gray) or HxWx3 (colour; other channel counts: the mean of the channels'
    estimates). Pixels at exactly 0 or 1 (clipped highlights and shadows) are left out where
    enough others remain, as clipping removes noise and would pull the estimate down.

    Colour: the image is turned by an orthonormal opponent transform, which keeps white
    noise white with the same sigma, and sigma is the mean of the two chroma channels'
    estimates. Chroma holds far less texture than R, G or B, so less of it passes for noise
    (on CBSD432 at sigma 50: mean error 0.11 against 0.40 for the mean over R, G, B). This
    assumes the same noise in every channel, as in synthetic benchmarks; camera noise that
    JPEG or demosaicking has smoothed in chroma will be underestimated.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim in (2, 3) and img.shape[0] * img.shape[1] > CROPS_ABOVE:
        return float(np.median([estimate_sigma(crop) for crop in _crops(img, CROP, CROPS)]))
    if img.ndim not in (2, 3):
        raise RestorekitError(f"expected an HxW or HxWxC image, got shape {img.shape}")
    saturated = _clipped(img)  # before any colour transform
    if img.ndim == 2:
        return _estimate_gray(img, saturated)
    if img.shape[2] == 3:
        chroma = img.astype(np.float64) @ _CHROMA.T  # [H, W, 2]
        return float(np.mean([_estimate_gray(chroma[..., c], saturated) for c in range(2)]))
    return float(np.mean([_estimate_gray(img[..., c], saturated) for c in range(img.shape[2])]))


def _clipped(img: np.ndarray) -> np.ndarray | None:
    """[H, W]: the pixels at exactly 0 or 1 in any channel; None where there is none."""
    if img.size and img.min() > 0 and img.max() < 1:  # the common case, without a mask
        return None
    mask = (img == 0) | (img == 1)
    mask = mask.any(axis=2) if mask.ndim == 3 else mask
    return mask if mask.any() else None


def _crops(image: np.ndarray, crop: int, grid: int) -> list[np.ndarray]:
    """``grid x grid`` crops of side ``crop``, evenly spread from corner to corner."""
    h, w = image.shape[:2]
    ch, cw = min(crop, h), min(crop, w)
    rows = np.linspace(0, h - ch, grid).round().astype(int)
    cols = np.linspace(0, w - cw, grid).round().astype(int)
    return [image[r : r + ch, c : c + cw] for r in rows for c in cols]


def _estimate_gray(img: np.ndarray, saturated: np.ndarray | None) -> float:
    """Estimate for one channel [H, W]; ``saturated`` marks clipped pixels (None: there are none)."""
    p = PATCH
    h, w = img.shape
    if h < p + 2 or w < p + 2:
        raise RestorekitError(
            f"image {h}x{w} is too small to estimate its noise level (needs {p + 2}x{p + 2}); give sigma"
        )
    img = img.astype(np.float64)
    if not np.isfinite(img).all():
        raise RestorekitError("image holds NaN or infinite values; cannot estimate its noise level")
    # Gradients cropped so that patch (i, j) of img, of gh (p x p-2) and of gv (p-2 x p) line up.
    gh = (img[:, 2:] - img[:, :-2]) / 2  # [H, W-2]
    gv = (img[2:, :] - img[:-2, :]) / 2  # [H-2, W]
    texture = box_sum(gh * gh, p, p - 2) + box_sum(gv * gv, p - 2, p)  # [H-p+1, W-p+1]

    stride = math.ceil(math.sqrt(texture.size / MAX_PATCHES))
    windows = np.lib.stride_tricks.sliding_window_view(img, (p, p))[::stride, ::stride]  # [h, w, p, p]
    patches = windows.transpose(2, 3, 0, 1).reshape(p * p, -1)  # one patch per column, a copy
    texture = texture[::stride, ::stride].ravel()  # [N]
    if saturated is not None:
        clipped = box_sum(saturated.astype(np.float64), p, p) > 0.5  # patches holding a clipped pixel
        keep = ~clipped[::stride, ::stride].ravel()
        if 4 * p * p <= keep.sum() < keep.size:
            patches, texture = patches[:, keep], texture[keep]

    tau0 = texture_quantile(p, CONFIDENCE)
    # Each round keeps a subset of the last round's patches, so their moments are updated by
    # taking out the few dropped ones instead of being summed again (half the time in all).
    moments = _Moments(patches)
    var = moments.noise_variance() / BIAS**2  # corrected in every round, so thresholds do not drift
    kept = np.ones(texture.size, dtype=bool)
    for _ in range(1, ROUNDS):
        drop = kept & (texture >= var * tau0)
        if kept.sum() - drop.sum() < 4 * p * p or not drop.any():
            break
        moments.remove(patches[:, drop])
        kept &= ~drop
        var = moments.noise_variance() / BIAS**2
    return float(np.sqrt(max(var, 0.0)))


class _Moments:
    """Count, sum and sum of outer products of a set of patches ([d, N] columns), removable.

    The columns are shifted by their first mean before summing, so the covariance
    ``(M - s s'/n) / (n - 1)`` does not lose precision to the patches' brightness.
    """

    def __init__(self, patches: np.ndarray):
        self.shift = patches.mean(axis=1, keepdims=True)  # [d, 1]
        self.n, self.sum, self.outer = 0, 0.0, 0.0
        self._add(patches, 1)

    def remove(self, patches: np.ndarray) -> None:
        self._add(patches, -1)

    def _add(self, patches: np.ndarray, sign: int) -> None:
        total, outer = _gram(patches, self.shift)
        self.n += sign * patches.shape[1]
        self.sum = self.sum + sign * total
        self.outer = self.outer + sign * outer

    def noise_variance(self) -> float:
        mean = self.sum / self.n
        return _noise_eigenvalues((self.outer - self.n * np.outer(mean, mean)) / (self.n - 1))


def noise_variance(patches: np.ndarray) -> float:
    """Chen et al.'s criterion on the eigenvalues of the patches' covariance ([d, N] -> float)."""
    _, outer = _gram(patches, patches.mean(axis=1, keepdims=True))
    return _noise_eigenvalues(outer / (patches.shape[1] - 1))


def _noise_eigenvalues(cov: np.ndarray) -> float:
    """The mean of the noise eigenvalues of a [d, d] covariance (Chen et al.'s criterion)."""
    eig = np.linalg.eigvalsh(cov)  # ascending
    # For each k, are the k smallest eigenvalues balanced about their mean? Take the largest k.
    k = np.arange(1, eig.size + 1)
    means = np.cumsum(eig) / k  # [d]
    first_k = k[None, :] <= k[:, None]  # row k-1 masks eig[:k]
    above = ((eig[None, :] > means[:, None]) & first_k).sum(1)
    below = ((eig[None, :] < means[:, None]) & first_k).sum(1)
    balanced = np.flatnonzero(above == below)
    return float(means[balanced[-1]]) if balanced.size else float(eig[0])


# Columns per matrix product in _gram: 49 * 49 * 96 < 2**18, the size below which
# OpenBLAS keeps a product on one thread. One [49, 37000] product let OpenBLAS spread over
# busy cores and took 0.4-1.8 s instead of 6 ms; chunks of 96 take 7 ms either way.
_CHUNK = 96


def _gram(columns: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and sum of outer products of ``columns - shift`` ([d, N], [d, 1] -> [d], [d, d]).

    In single-threaded chunks, each shifted as it is summed (no shifted copy of all the columns).
    """
    d, n = columns.shape
    total, outer = np.zeros(d), np.zeros((d, d))
    for start in range(0, n, _CHUNK):
        block = columns[:, start : start + _CHUNK] - shift  # [d, <=96]
        total += block.sum(axis=1)
        outer += block @ block.T
    return total, outer


@lru_cache(maxsize=None)
def texture_quantile(p: int, confidence: float) -> float:
    """The ``confidence`` quantile of ||D n||^2 / sigma^2 for a p x p patch of unit noise.

    D stacks the horizontal and vertical central differences inside the patch; ||D n||^2 is
    approximated by a Gamma law with shape rank(D'D)/2 and scale 2 trace(D'D)/rank (Liu et al.).
    """
    from scipy.special import gammaincinv

    rows = []
    for i in range(p):
        for j in range(1, p - 1):
            for a, b in (((i, j - 1), (i, j + 1)), ((j - 1, i), (j + 1, i))):  # horizontal, vertical
                r = np.zeros((p, p))
                r[a], r[b] = -0.5, 0.5
                rows.append(r.ravel())
    d = np.array(rows)
    dtd = d.T @ d
    rank = np.linalg.matrix_rank(dtd)
    scale = 2.0 * np.trace(dtd) / rank
    return float(scale * gammaincinv(rank / 2.0, confidence))


def box_sum(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Sum of every ph x pw window of x ([H, W] -> [H-ph+1, W-pw+1]) by an integral image."""
    c = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
    np.cumsum(np.cumsum(x, axis=0), axis=1, out=c[1:, 1:])
    return c[ph:, pw:] - c[:-ph, pw:] - c[ph:, :-pw] + c[:-ph, :-pw]
