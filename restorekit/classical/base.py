"""The Restorer protocol shared by classical methods and networks, and the registry of methods.

>>> from restorekit.classical import get_method, list_methods
>>> list_methods()
['bilateral', 'bm3d', 'gaussian', 'median', 'nlm', 'tv', 'wavelet']
>>> tv = get_method("tv")
>>> import numpy as np
>>> tv(np.full((16, 16), 0.5, np.float32), 25 / 255).shape
(16, 16)
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np

from restorekit.arrays import check_image, check_sigma
from restorekit.errors import RestorekitError


@runtime_checkable
class Restorer(Protocol):
    """Anything that restores an image: ``restorer(image, sigma) -> image``.

    ``image`` is float32 in [0, 1], HxW or HxWx3; ``sigma`` is the noise level on the [0, 1]
    scale (25 / 255), or None for blind use. The output has the input's shape and dtype.
    """

    name: str

    def __call__(self, image: np.ndarray, sigma: float | None) -> np.ndarray: ...


# Filled by the method modules' @register_method decorators when restorekit/classical/__init__.py
# imports them; this module imports none of them.
_REGISTRY: dict[str, Callable[[], Restorer]] = {}


def register_method(name: str) -> Callable[[Callable[[], Restorer]], Callable[[], Restorer]]:
    """Decorator: register a factory (usually a class) that builds the method ``name``."""

    def deco(factory: Callable[[], Restorer]) -> Callable[[], Restorer]:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return deco


def get_method(name: str) -> Restorer:
    """A ready-to-call classical method by name (see ``list_methods``)."""
    if name not in _REGISTRY:
        raise RestorekitError(f"unknown method {name!r}; known: {', '.join(list_methods())}")
    return _REGISTRY[name]()


def list_methods() -> list[str]:
    return sorted(_REGISTRY)


class ClassicalMethod:
    """Base of the classical methods: checks the input, fills in a blind sigma, keeps shape and dtype.

    Subclasses set ``name`` and implement ``denoise(image, sigma)`` for float HxW or HxWx3
    images and a known ``sigma`` > 0. The output is not clipped to [0, 1]; the caller decides.
    """

    name: str = ""

    def __call__(self, image: np.ndarray, sigma: float | None = None) -> np.ndarray:
        img = check_image(image, self.name, integers=False)
        squeeze = img.ndim == 3 and img.shape[2] == 1  # HxWx1 is gray
        work = img[..., 0] if squeeze else img
        if sigma is None:
            from restorekit.estimate import estimate_sigma

            sigma = estimate_sigma(work)
        sigma = check_sigma(sigma, blind=False)
        if sigma == 0:
            return img.copy()
        out = np.asarray(self.denoise(work, sigma))
        out = out[..., None] if squeeze else out
        return out.astype(img.dtype, copy=False)

    def denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<classical method {self.name!r}>"

