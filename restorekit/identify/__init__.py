"""Which noise is in this image, and how much: ``identify_noise(image) -> NoiseReport``.

A denoiser works best when it is told the right noise; this module tells it, from the
image alone, with published statistics (no learned model):

1. **Impulses** (salt and pepper): samples at exactly 0 or 1 that stand apart from their
   3x3 median, as many 0s as 1s; without them the image must be nearly clean (clipped
   Gaussian noise also makes isolated 0s and 1s, but leaves the rest noisy).
2. **JPEG** (IJG/libjpeg tables, 8x8 grid from the top-left corner): the block DCT
   coefficients of a decoded JPEG's luminance sit on multiples of the quantisation steps
   (Fan & de Queiroz, IEEE TIP 2003); the IJG quality whose table fits is the estimate.
3. **Demosaicking traces** (Popescu & Farid, IEEE TSP 2005): colour camera noise is much
   weaker at the interpolated sites of each 2x2 Bayer cell than at the recorded ones.
4. **Signal dependence** (Foi et al., IEEE TIP 2008, clipping as Foi 2009): the noise
   variance against intensity, measured in intensity bins with the weak-texture patches
   and eigenvalue criterion of :mod:`restorekit.estimate`, fitted by a constant (Gaussian),
   ``a + b y`` (Poisson-Gaussian), ``a + c y^2`` (speckle) or the shape the gamma and tone
   curve give shot noise (gray camera), with the noise's skewness: 0 for Gaussian and
   speckle, positive for Poisson, negative after a concave gamma (gray camera).

The thresholds were chosen on the training images (Train400 and CBSD432), never on the
test sets that ``benchmarks/identify.py`` reports (BSD68, CBSD68); see docs/realnoise.md.

>>> report = identify_noise(noisy)     # astronaut + gaussian:25, 8-bit      # doctest: +SKIP
>>> report.kind, report.level, report.spec                                  # doctest: +SKIP
('gaussian', 24.3, 'gaussian:24.3')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from restorekit.errors import RestorekitError
from restorekit.identify.statistics import IMPULSE_MIN, MODELS, fit_curve, measure

KINDS = ("none", "gaussian", "poisson-gaussian", "saltpepper", "speckle", "camera", "jpeg")
MIN_SIZE = 32  # smaller images hold too few patches to tell noises apart

# --- thresholds, chosen on Train400 and CBSD432 (benchmarks/identify.py --split train) ---
IMPULSE_CLEAN = 9 / 255  # the image without its impulses must be this clean (quiet patches)
IMPULSE_BALANCE = 0.5  # salt and pepper come in equal shares (speckle and clipping: rarely)
JPEG_MAX_QUALITY = 90  # above this, too little is left to tell; reported as "none" (+ details)
NOISE_MIN = 3.0 / 255  # quiet patches below this noise level: "none" ...
DEPENDENT_ERROR = 0.35  # ... unless a signal-dependent model fits this well (relative error)
DEPENDENT_LEVEL = 6 / 255  # ... and predicts this much noise somewhere
CFA_MIN = 1.04  # colour: demosaicking traces this strong mean camera (benchmarks/cfa_threshold.py)
SHAPE_GAIN = 0.6  # a signal-dependent model must cut the Gaussian fit's error by this factor
SHAPE_MARGIN = 0.04  # ... and by this much (all fit a clean curve about equally well)
SPECKLE_FLOOR = 0.4  # speckle: noise floor / speckle noise at mid-gray, at most
CAMERA_SKEW = 0.03  # gray camera: noise skewed below minus this, and the tone-curve model
CAMERA_SHAPE = 0.3  # better than the Gaussian one; or, whatever the skew, better by this factor
CAMERA_RMS = 1.3  # colour camera: RMS noise / demosaicking-trace level
CAMERA_SHOT = 0.37  # colour camera: shot variance x mean tone-curve shape / RMS^2


@dataclass(frozen=True)
class NoiseReport:
    """What :func:`identify_noise` found.

    ``level`` is in the units of the kind's spec: gaussian sigma on the 0-255 scale;
    saltpepper the amount (fraction of samples); speckle its sigma; jpeg the quality
    (1-100); poisson-gaussian and camera an equivalent RMS noise on the 0-255 scale, with
    the model's own parameters in ``details``; none 0.
    """

    kind: str
    level: float
    spec: str
    details: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "level": self.level, "spec": self.spec, "details": self.details}


def identify_noise(image: np.ndarray) -> NoiseReport:
    """Identify the noise in ``image`` (float HxW or HxWx3 in [0, 1], as read from a file)."""
    x = _check(image)
    features = measure(x)
    return decide(features)


def _check(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] != 3):
        raise RestorekitError(f"identify takes an HxW or HxWx3 image, got shape {x.shape}")
    if min(x.shape[:2]) < MIN_SIZE:
        raise RestorekitError(
            f"image {x.shape[0]}x{x.shape[1]} is too small to identify its noise (needs {MIN_SIZE}x{MIN_SIZE})")
    if np.issubdtype(x.dtype, np.integer):
        x = x / float(np.iinfo(x.dtype).max)
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise RestorekitError("image holds NaN or infinite values; cannot identify its noise")
    return x


# --- deciding ---------------------------------------------------------------------------


def decide(f: dict) -> NoiseReport:
    """Turn :func:`~restorekit.identify.statistics.measure`'s statistics into a report
    (thresholds at the top of this module)."""
    details = {"jpeg_quality": f["jpeg_quality"], "impulse_amount": round(f["impulse_amount"], 4),
               "quiet_level": round(f["full"] * 255, 2), "cfa_contrast": round(f["cfa"], 3)}
    amount = f["impulse_amount"]
    if amount >= IMPULSE_MIN and f["impulse_balance"] >= IMPULSE_BALANCE and f["impulse_rest"] <= IMPULSE_CLEAN:
        a = float(np.round(amount, 3))
        return NoiseReport("saltpepper", a, f"saltpepper:{_fmt(a)}", details)
    quality = f["jpeg_quality"]
    if quality is not None and quality <= JPEG_MAX_QUALITY:
        return NoiseReport("jpeg", quality, f"jpeg:{int(quality)}", details)
    if f["colour"] and f["cfa"] >= CFA_MIN:
        return _camera_colour(f, details)
    fits = {m: fit_curve(f["bins"], m, f.get("clipped", True)) for m in MODELS}
    gauss = fits["gaussian"]
    if gauss is None or f["full"] < NOISE_MIN and not _signal_dependent(fits):
        return NoiseReport("none", 0.0, "none", details)
    skew = _skew(f["bins"])
    details.update({f"error_{m}": round(fit["error"], 3) for m, fit in fits.items() if fit}, skewness=round(skew, 3))
    best = _best_shape(fits, skew, f["colour"])
    if best == "gaussian":
        sigma = float(np.round(np.sqrt(gauss["coef"][0]) * 255, 1))
        return NoiseReport("gaussian", sigma, f"gaussian:{_fmt(sigma)}", details)
    fit = fits[best]
    floor, slope = fit["coef"]
    rms = float(np.round(np.sqrt(fit["predicted"].mean()) * 255, 1))
    if best == "speckle":
        sigma = float(np.round(np.sqrt(slope), 3))
        return NoiseReport("speckle", sigma, f"speckle:{_fmt(sigma)}", details)
    if best == "camera":
        shot = float(np.clip(slope, 1e-6, 0.5))
        details["shot"] = float(_fmt(shot, 2))
        return NoiseReport("camera", rms, f"camera:{_fmt(shot, 2)}", details)
    peak, read = 1 / max(slope, 1e-9), np.sqrt(floor) * 255
    details.update(peak=round(peak, 1), read=round(read, 2))
    spec = f"poisson:{_fmt(peak, 3)}" + (f"+gaussian:{_fmt(read, 2)}" if read >= 0.5 else "")
    return NoiseReport("poisson-gaussian", rms, spec, details)


def _best_shape(fits: dict, skew: float, colour: bool) -> str:
    """The model the noise curve and the noise's skewness point to (gaussian unless clearly not).

    Poisson noise is skewed positively (never clearly negatively); speckle vanishes in the
    dark (a large floor is another noise). Camera noise in colour leaves demosaicking traces
    (checked before); in gray, the tone curve bends the variance and, being concave, skews
    the noise negatively: either sign is enough when clear.
    """
    error = {m: fit["error"] for m, fit in fits.items() if fit}
    gauss = error["gaussian"]
    candidates = []
    better = {m: e <= SHAPE_GAIN * gauss and e <= gauss - SHAPE_MARGIN for m, e in error.items()}
    if better.get("poisson-gaussian") and skew > -CAMERA_SKEW:
        candidates.append((error["poisson-gaussian"], "poisson-gaussian"))
    if better.get("speckle"):
        floor, slope = fits["speckle"]["coef"]
        if np.sqrt(floor) <= SPECKLE_FLOOR * 0.5 * np.sqrt(slope):
            candidates.append((error["speckle"], "speckle"))
    camera = error.get("camera", 1)
    if not colour and (camera <= CAMERA_SHAPE * gauss or camera <= gauss and skew <= -CAMERA_SKEW):
        candidates.append((camera * (CAMERA_SHAPE if skew <= -CAMERA_SKEW else 1), "camera"))
    return min(candidates)[1] if candidates else "gaussian"


def _skew(bins: np.ndarray) -> float:
    """Skewness of the noise, over the bins that clipping at 1 (3 standard deviations) leaves
    alone: clipping there skews any noise negatively. Clipping at 0 skews it positively, so
    the dark bins only make a negative skewness harder to reach: they stay."""
    if not len(bins):
        return 0.0
    std = np.sqrt(bins[:, 1])
    ok = (bins[:, 0] + 3 * std < 1) & (bins[:, 1] > 0)
    return float(np.average(bins[ok, 3], weights=bins[ok, 2])) if ok.any() else 0.0


def _signal_dependent(fits: dict) -> bool:
    """A quiet image whose noise still grows clearly with intensity (speckle, shot noise)."""
    return any(fit and fit["error"] <= DEPENDENT_ERROR and fit["predicted"].max() >= DEPENDENT_LEVEL**2
               for m, fit in fits.items() if m != "gaussian")


def _camera_colour(f: dict, details: dict) -> NoiseReport:
    """Colour camera noise: its level from the demosaicking traces (calibrated on training images)."""
    rms = float(np.round(CAMERA_RMS * f["cfa_level"] * 255, 1))
    shot = float(np.clip(CAMERA_SHOT * (rms / 255) ** 2 / max(f["shape"], 1e-3), 1e-6, 0.5))
    details["shot"] = float(_fmt(shot, 2))
    return NoiseReport("camera", rms, f"camera:{_fmt(shot, 2)}", details)


def _fmt(value: float, digits: int | None = None) -> str:
    """Plain positional text a spec parses: 24.8, 0.0031 (never 3.1e-03); ``digits`` significant."""
    return np.format_float_positional(value, precision=digits, fractional=digits is None, trim="-")
