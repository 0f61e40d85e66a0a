"""restorekit: deep-learning image restoration (denoising first, deblurring second).

The public API is loaded lazily so that ``import restorekit`` and ``restorekit --help``
stay fast; heavy modules (torch, scikit-image) load on first use.

>>> import restorekit as rk                                   # doctest: +SKIP
>>> clean = rk.read_image("photo.png")[0]                      # doctest: +SKIP
>>> noisy = rk.degrade(clean, "gaussian:25", seed=0)            # doctest: +SKIP
>>> restored = rk.denoise(noisy, sigma=25 / 255)                # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "read_image": "restorekit.io",
    "write_image": "restorekit.io",
    "read_stack": "restorekit.io",
    "write_stack": "restorekit.io",
    "degrade": "restorekit.degradations",
    "parse_spec": "restorekit.degradations",
    "load_kernel": "restorekit.degradations",
    "psnr": "restorekit.metrics",
    "ssim": "restorekit.metrics",
    "estimate_sigma": "restorekit.estimate",
    "get_method": "restorekit.classical",
    "list_methods": "restorekit.classical",
    "create_model": "restorekit.models",
    "list_models": "restorekit.models",
    "load_model": "restorekit.models",
    "denoise": "restorekit.infer",
    "default_model": "restorekit.infer",
    "deblur": "restorekit.deblurring",
    "RestorekitError": "restorekit.errors",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'restorekit' has no attribute {name!r}")


def __dir__():
    return __all__
