"""Synthetic degradations: noise, blur, and the specs that combine them.

Pure functions of a ``[B, C, H, W]`` float32 batch, their parameters and an explicit
``torch.Generator`` (:mod:`.noise`, :mod:`.blur`); realistic noise: camera noise by
unprocessing (:mod:`.camera`), JPEG (:mod:`.jpeg`) and a random mix of both and the rest
(:mod:`.realmix`); kernels from specs or files (:mod:`.kernels`); spec strings such as
``"poisson:30+gaussian:5"`` or ``"camera+jpeg:60-95"`` (:mod:`.spec`); and the published
tables' own protocol (:mod:`.paper`). :func:`degrade` is the numpy front door.

>>> noisy = degrade(clean, "gaussian:25", seed=0)        # doctest: +SKIP
>>> photo = degrade(clean, "camera+jpeg:60-95", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from restorekit.arrays import check_image
from restorekit.degradations.blur import MODES as BLUR_MODES
from restorekit.degradations.blur import blur, kernel_otf
from restorekit.degradations.camera import camera_noise
from restorekit.degradations.jpeg import jpeg_compress
from restorekit.degradations.kernels import load_kernel
from restorekit.degradations.noise import gaussian, poisson, poisson_gaussian, salt_pepper, speckle
from restorekit.degradations.paper import paper_degrade
from restorekit.degradations.realmix import real_mix
from restorekit.degradations.spec import Degradation, Degraded, parse_spec
from restorekit.errors import RestorekitError, SpecError

__all__ = [
    "BLUR_MODES",
    "Degradation",
    "Degraded",
    "blur",
    "camera_noise",
    "degrade",
    "gaussian",
    "jpeg_compress",
    "kernel_otf",
    "load_kernel",
    "paper_degrade",
    "parse_spec",
    "poisson",
    "poisson_gaussian",
    "real_mix",
    "salt_pepper",
    "speckle",
]


def degrade(image: np.ndarray, spec: str | Degradation, seed: int = 0) -> np.ndarray:
    """Degrade one numpy image ``HxW`` or ``HxWxC`` (float [0, 1]); float32 out, not clipped.

    The same ``seed`` gives the same image. uint8/uint16 input is scaled to [0, 1] first.
    An image with NaN or infinite pixels is refused: noise added to them is no data.
    """
    from restorekit.io import to_float32

    if not isinstance(spec, (str, Degradation)):
        raise SpecError(f"spec must be a string such as 'gaussian:25', got {spec!r} ({type(spec).__name__})")
    degradation = parse_spec(spec)
    array = to_float32(check_image(image, min_size=1))
    if not np.isfinite(array).all():
        raise RestorekitError(f"image has {int((~np.isfinite(array)).sum())} non-finite pixel value(s) "
                              "(NaN or inf); degrade needs finite pixels")
    x = torch.from_numpy(np.ascontiguousarray(array))
    x = x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[None]  # [1, C, H, W]
    generator = torch.Generator().manual_seed(int(seed))
    y = degradation(x, generator).image[0]  # [C, H, W]
    out = y[0] if array.ndim == 2 else y.permute(1, 2, 0)
    return np.ascontiguousarray(out.numpy(), dtype=np.float32)
