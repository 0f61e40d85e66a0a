"""Blind denoising that knows the noise: identify it, then pick the method and the level.

``restorekit.denoise(image)`` with no model and no sigma comes here
(:func:`restorekit.identify.identify_noise` tells the noise's kind and level):

=====================  ==========================================================
white Gaussian, none   the shipped Gaussian model, told the identified sigma
camera, JPEG,          the shipped real-noise model for the image's channels, its
Poisson-Gaussian,      level found by its own residual (:func:`~restorekit.infer.
speckle                apply.calibrated_level`); without one, the Gaussian model, ``pd=2``
salt and pepper        the median filter (a network trained on Gaussian noise
                       does not remove impulses)
=====================  ==========================================================

The choice is returned with the output by :func:`choose` (``restorekit denoise --verbose``
and ``--json`` print it), so the user sees what was done and why.

>>> choice = choose(noisy)                                    # doctest: +SKIP
>>> choice.method, choice.reason                              # doctest: +SKIP
('fastunet.color-real', 'camera noise: the real-noise model')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from restorekit.infer.network import default_model

# The shipped real-noise model for gray (1) and colour (3) images, where there is one.
REAL_MODELS = {1: "fastunet.gray-real", 3: "fastunet.color-real"}
REAL_KINDS = ("camera", "jpeg", "poisson-gaussian", "speckle")


@dataclass(frozen=True)
class Choice:
    """What blind denoising decided for one image."""

    method: str  # a model name or a classical method
    sigma: float | None  # the level it is told, on the [0, 1] scale
    pd: int  # pixel-shuffle down-sampling factor
    reason: str  # one line for the user
    noise: dict = field(default_factory=dict)  # the identification (kind, level, spec)

    def as_dict(self) -> dict:
        level = None if self.sigma is None else round(self.sigma * 255, 3)
        return {"method": self.method, "sigma": level, "pd": self.pd, "reason": self.reason, "noise": self.noise}


def real_model(channels: int) -> str | None:
    """The shipped real-noise model for ``channels``, or None where this install has none."""
    from restorekit.models import list_models

    name = REAL_MODELS.get(channels)
    return name if name in list_models() else None


def choose(image: np.ndarray) -> Choice:
    """Identify the noise of a float image in [0, 1] and decide how to denoise it."""
    from restorekit.identify import identify_noise

    channels = 1 if image.ndim == 2 else image.shape[2]
    if min(image.shape[:2]) < 32:  # too small to identify: the Gaussian path, blind
        return Choice(default_model(channels), None, 1, "image too small to identify its noise: Gaussian, blind")
    report = identify_noise(image)
    noise = {"kind": report.kind, "level": report.level, "spec": report.spec}
    if report.kind == "saltpepper":
        return Choice("median", None, 1, f"salt-and-pepper noise ({report.level:.1%}): the median filter", noise)
    if report.kind in REAL_KINDS:
        model = real_model(channels)
        if model is not None:  # the level: the model's own (self-calibrated, see infer.apply)
            return Choice(model, None, 1, f"{report.kind} noise: the real-noise model", noise)
        return Choice(default_model(channels), None, 2,
                      f"{report.kind} noise: Gaussian model on pixel-shuffled sub-images (no real-noise model "
                      "installed)", noise)
    sigma = report.level / 255 if report.kind == "gaussian" else 0.0
    return Choice(default_model(channels), sigma, 1,
                  f"{'white Gaussian noise, sigma ' + format(report.level, '.1f') if sigma else 'no noise found'}: "
                  "the Gaussian model", noise)
