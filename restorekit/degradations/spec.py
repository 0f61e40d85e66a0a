"""Degradation specs: ``"gaussian:25"``, ``"poisson:30+gaussian:5"``, ``"camera+jpeg:60-95"``.

A spec is ``none`` or terms joined by ``+``, applied left to right: an optional blur first,
then noise terms in the order written (``gaussian:5+jpeg:80`` compresses the noisy image).
Numbers may be a range ``LOW-HIGH``, drawn per image (blind training: ``gaussian:0-55``),
uniformly, or with ``^P`` as ``LOW + (HIGH - LOW) u^P`` for u uniform in [0, 1]: P > 1 draws
the low end more often (``gaussian:0-75^1.5``: a third of the draws below sigma 14 instead of
a fifth). One network trained over a range of levels is weakest at the low end when the
levels are drawn uniformly (Gnanasambandam and Chan, "One size fits all", ICML 2020).

=====================  ==================================================================
``gaussian:S``         additive Gaussian, sigma S on the 0-255 scale (S/255 inside)
``poisson:P``          y = Poisson(P x) / P; ``poisson:30+gaussian:5`` is Poisson-Gaussian
``saltpepper:A``       a fraction A of samples set to 0 or 1 (half each)
``speckle:S``          y = x + x n, n ~ N(0, S^2)
``camera[:V]``         camera noise by unprocessing (Brooks et al. 2019, :mod:`.camera`):
                       V is the shot-noise variance per unit of raw signal, the paper's
                       scale; a range is drawn log-uniformly; bare ``camera`` is the
                       published range ``camera:0.0001-0.012``. Read noise follows the
                       paper's fit, log read = 2.18 log shot + 1.20 + N(0, 0.26^2)
``jpeg:Q``             JPEG round trip at quality Q (an integer 1-100; a range is drawn
                       uniformly over its integers), by Pillow (:mod:`.jpeg`)
``realmix``            a random mix per image of Gaussian (white, gray or correlated),
                       Poisson, speckle and camera noise, then JPEG (:mod:`.realmix`)
``blur:K[@MODE]``      convolve with kernel K (see :mod:`restorekit.degradations.kernels`);
                       MODE circular (default: the benchmarks' periodic blur), reflect or
                       replicate (for real photos)
``none``               the identity
=====================  ==================================================================

Each kind appears at most once. :func:`parse_spec` does all the checking, so a
:class:`Degradation` is always valid; calling it on a batch draws its random parameters
and noise from the generator given.

>>> deg = parse_spec("gaussian:0-55")                       # doctest: +SKIP
>>> out = deg(clean, torch.Generator().manual_seed(0))      # doctest: +SKIP
>>> out.image.shape, out.sigma.shape                         # doctest: +SKIP
(torch.Size([8, 1, 40, 40]), torch.Size([8]))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch

from restorekit.degradations import noise as _noise
from restorekit.degradations.blur import MODES, blur
from restorekit.degradations.camera import SHOT_RANGE, camera_noise
from restorekit.degradations.jpeg import jpeg_compress
from restorekit.degradations.kernels import KERNEL_HELP, load_kernel
from restorekit.degradations.realmix import real_mix
from restorekit.errors import SpecError

NOISE_KINDS = ("gaussian", "poisson", "saltpepper", "speckle", "camera", "jpeg", "realmix")
VALUE_OPTIONAL = ("camera", "realmix")  # kinds written without a value: "camera", "realmix"
SPEC_HELP = (
    "gaussian:25, gaussian:0-55, poisson:30, poisson:30+gaussian:5, saltpepper:0.1, speckle:0.25, "
    "camera, camera:0.001-0.012, jpeg:30, camera+jpeg:60-95, realmix, blur:gaussian-1.6+gaussian:2.55, none"
)
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"  # 25, 2.55, .5, 2.5e1, 1e-3
_VALUE = re.compile(rf"({_NUMBER})(?:-({_NUMBER})(?:\^({_NUMBER}))?)?")  # 25, 0-75, 0-75^1.5
SKEWABLE = ("gaussian", "poisson", "saltpepper", "speckle")  # kinds whose range may take ^P
POWER_RANGE = (0.1, 10.0)  # P below 1 draws the high end more often
GAUSSIAN_MAX = 255.0  # sigma on the 0-255 scale: beyond it the noise swamps any image


@dataclass(frozen=True)
class Degraded:
    """One degraded batch and what a network may be told about it."""

    image: torch.Tensor  # [B, C, H, W] degraded, NOT clipped
    sigma: torch.Tensor  # [B] noise level on the [0, 1] scale (see Degradation.__call__)
    kernel: torch.Tensor | None  # [kh, kw] the blur kernel used, if any


@dataclass(frozen=True)
class NoiseTerm:
    """One noise term; ``low``/``high`` in library units (gaussian sigma already / 255).

    camera: the shot-noise variance (drawn log-uniformly inside :func:`camera_noise`); jpeg:
    the quality; realmix: unused (0).
    """

    kind: str  # one of NOISE_KINDS
    low: float
    high: float
    power: float = 1.0  # a range is drawn as low + (high - low) * u**power

    def draw(self, batch: int, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
        """The term's parameter for each image: [B], in [low, high] for a range, uniform or
        skewed by ``power`` (jpeg: uniform over the integers in [low, high])."""
        if self.low == self.high:  # a fixed value draws nothing, so it leaves the generator alone
            return torch.full((batch,), self.low, dtype=like.dtype, device=like.device)
        if self.kind == "jpeg":
            q = torch.randint(int(self.low), int(self.high) + 1, (batch,), generator=generator, device=generator.device)
            return q.to(device=like.device, dtype=like.dtype)
        u = torch.rand(batch, generator=generator, device=generator.device, dtype=torch.float64)
        if self.power != 1.0:
            u = u.pow(self.power)
        return (self.low + (self.high - self.low) * u).to(device=like.device, dtype=like.dtype)


@dataclass(frozen=True, eq=False)
class Degradation:
    """A parsed spec: blur (optional) then noise terms. Build with :func:`parse_spec`."""

    spec: str  # canonical spec string
    noise: tuple[NoiseTerm, ...] = ()
    kernel: np.ndarray | None = None  # float32 [kh, kw], sums to 1, read-only
    blur_mode: str = "circular"

    @property
    def is_gaussian(self) -> bool:
        """Only additive Gaussian noise (possibly none, possibly after a blur)."""
        return all(term.kind == "gaussian" for term in self.noise)

    @property
    def noise_range(self) -> tuple[float, float] | None:
        """(min, max) Gaussian sigma on the [0, 1] scale; (0, 0) without noise; None if not Gaussian."""
        if not self.is_gaussian:
            return None
        if not self.noise:
            return (0.0, 0.0)
        (term,) = self.noise
        return (term.low, term.high)

    def __call__(self, clean: torch.Tensor, generator: torch.Generator) -> Degraded:
        """Degrade a batch ``clean`` [B, C, H, W]; random draws come from ``generator`` only.

        ``sigma`` [B] is what a noise-conditioned network is told: the Gaussian sigma drawn
        for each image when the noise is Gaussian, else the measured RMS of the noise that
        was added (degraded - blurred clean), per image.
        """
        if not isinstance(clean, torch.Tensor) or clean.ndim != 4:
            raise ValueError(f"a degradation takes a [B, C, H, W] tensor, got {getattr(clean, 'shape', type(clean))}")
        batch = clean.shape[0]
        kernel = None
        blurred = clean
        if self.kernel is not None:
            kernel = torch.tensor(self.kernel, dtype=clean.dtype, device=clean.device)
            blurred = blur(clean, kernel, self.blur_mode)
        y = blurred
        sigma = torch.zeros(batch, dtype=clean.dtype, device=clean.device)
        for term in self.noise:
            if term.kind == "camera":  # draws its own levels, log-uniformly, and a camera per image
                y = camera_noise(y, term.low, term.high, generator)
                continue
            if term.kind == "realmix":
                y = real_mix(y, generator)
                continue
            value = term.draw(batch, generator, clean)  # [B]
            if term.kind == "jpeg":
                y = jpeg_compress(y, value.round().long().cpu())
            elif term.kind == "gaussian":
                y = _noise.gaussian(y, value, generator)
                sigma = value
            elif term.kind == "poisson":
                y = _noise.poisson(y, value, generator)
            elif term.kind == "saltpepper":
                y = _noise.salt_pepper(y, value, generator)
            else:
                y = _noise.speckle(y, value, generator)
        if not self.is_gaussian:
            sigma = (y - blurred).pow(2).mean(dim=(1, 2, 3)).sqrt()
        if y is clean:
            y = clean.clone()
        return Degraded(image=y, sigma=sigma, kernel=kernel)

    def __repr__(self) -> str:
        return f"Degradation({self.spec!r})"


def parse_spec(spec: str, *, blur_mode: str | None = None) -> Degradation:
    """Parse a spec string; raises :class:`SpecError` with a one-line message.

    ``blur_mode`` sets the blur's edge handling where the spec gives none (default circular).
    """
    if isinstance(spec, Degradation):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"empty degradation spec (examples: {SPEC_HELP})")
    text = spec.strip()
    if blur_mode is not None and blur_mode not in MODES:
        raise SpecError(f"unknown blur mode {blur_mode!r} (expected {', '.join(MODES)})")
    if text.lower() == "none":
        return Degradation(spec="none")

    kernel, mode, canonical = None, blur_mode or "circular", []
    noise: list[NoiseTerm] = []
    for position, term in enumerate(t.strip() for t in text.split("+")):
        kind, sep, value = term.partition(":")
        kind = kind.strip().lower()
        value = value.strip()
        if kind == "realmix" and sep:
            raise SpecError(f"bad term {term!r} in {spec!r}: realmix takes no value")
        if kind in VALUE_OPTIONAL and not sep:
            value = "" if kind == "realmix" else f"{SHOT_RANGE[0]}-{SHOT_RANGE[1]}"
        elif not sep or not value:
            raise SpecError(f"bad term {term!r} in {spec!r}: expected KIND:VALUE (examples: {SPEC_HELP})")
        if kind == "blur":
            if position != 0:
                raise SpecError(f"bad spec {spec!r}: the blur term must come first (blur, then noise)")
            kernel, mode, kernel_text = _parse_blur(value, blur_mode, spec)
            canonical.append(f"blur:{kernel_text}" + ("" if mode == "circular" else f"@{mode}"))
        elif kind in NOISE_KINDS:
            if any(t.kind == kind for t in noise):
                raise SpecError(f"bad spec {spec!r}: {kind} appears twice")
            low, high, power = _parse_value(kind, value, spec) if value else (0.0, 0.0, 1.0)
            scale = 255.0 if kind == "gaussian" else 1.0
            noise.append(NoiseTerm(kind, low / scale, high / scale, power))
            if not sep:  # camera, realmix: the default stays short
                canonical.append(kind)
            else:
                canonical.append(f"{kind}:{_fmt(low)}" + ("" if low == high else f"-{_fmt(high)}")
                                 + ("" if power == 1.0 else f"^{_fmt(power)}"))
        elif kind == "none":
            raise SpecError(f"bad spec {spec!r}: 'none' cannot be combined with other terms")
        else:
            raise SpecError(f"unknown degradation {kind!r} in {spec!r} (known: blur, {', '.join(NOISE_KINDS)}, none)")
    return Degradation(spec="+".join(canonical), noise=tuple(noise), kernel=kernel, blur_mode=mode)


def _parse_blur(value: str, blur_mode: str | None, spec: str) -> tuple[np.ndarray, str, str]:
    # A trailing "@word" is the edge mode; an "@" elsewhere may belong to a file name.
    kernel_text, at, mode = value.rpartition("@")
    mode = mode.strip().lower()
    if not at or not mode.isalpha():
        kernel_text, at = value, ""
    if at:
        if mode not in MODES:
            raise SpecError(f"unknown blur mode {mode!r} in {spec!r} (expected {', '.join(MODES)})")
        if blur_mode is not None and blur_mode != mode:
            raise SpecError(f"spec {spec!r} asks for {mode} blur but {blur_mode} was requested")
    else:
        mode = blur_mode or "circular"
    kernel_text = kernel_text.strip()
    if not kernel_text:
        raise SpecError(f"blur needs a kernel in {spec!r} (expected {KERNEL_HELP})")
    kernel = load_kernel(kernel_text)
    kernel.setflags(write=False)  # the Degradation is immutable; so is its kernel
    return kernel, mode, kernel_text


def _parse_value(kind: str, value: str, spec: str) -> tuple[float, float, float]:
    match = _VALUE.fullmatch(value)
    if not match:
        raise SpecError(f"bad value {value!r} for {kind} in {spec!r}: expected a number, a range LOW-HIGH "
                        "or a skewed range LOW-HIGH^P")
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) is not None else low
    power = float(match.group(3)) if match.group(3) is not None else 1.0
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(power)):
        raise SpecError(f"bad value {value!r} for {kind} in {spec!r}: too large to be a number")
    if match.group(3) is not None:
        if kind not in SKEWABLE:
            raise SpecError(f"bad value {value!r} for {kind} in {spec!r}: only {', '.join(SKEWABLE)} "
                            "ranges can be skewed with ^P")
        if not POWER_RANGE[0] <= power <= POWER_RANGE[1]:
            raise SpecError(f"bad value {value!r} for {kind} in {spec!r}: the power P of LOW-HIGH^P must lie "
                            f"in {_fmt(POWER_RANGE[0])}-{_fmt(POWER_RANGE[1])} (1: uniform)")
    if kind == "gaussian" and high > GAUSSIAN_MAX:
        raise SpecError(f"bad value {value!r} for gaussian in {spec!r}: sigma is on the 0-255 scale, "
                        f"at most {GAUSSIAN_MAX:g}")
    if high < low:
        raise SpecError(f"bad range {value!r} for {kind} in {spec!r}: LOW must not exceed HIGH")
    if kind == "poisson" and low <= 0:
        raise SpecError(f"bad value {value!r} for poisson in {spec!r}: the peak must be positive")
    if kind == "saltpepper" and high > 1:
        raise SpecError(f"bad value {value!r} for saltpepper in {spec!r}: the amount is a fraction in [0, 1]")
    if kind == "camera" and not (0 < low and high < 1):
        raise SpecError(
            f"bad value {value!r} for camera in {spec!r}: the shot-noise variance must lie in (0, 1), "
            f"the published range is {_fmt(SHOT_RANGE[0])}-{_fmt(SHOT_RANGE[1])}"
        )
    if kind == "jpeg" and not (low.is_integer() and high.is_integer() and 1 <= low and high <= 100):
        raise SpecError(f"bad value {value!r} for jpeg in {spec!r}: the quality is an integer in 1-100")
    return low, high, power


def _fmt(value: float) -> str:
    """25.0 -> '25', 2.55 -> '2.55': the shortest text that parses back to the same float."""
    return np.format_float_positional(value, trim="-")
