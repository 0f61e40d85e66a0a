"""JPEG compression artefacts, made by Pillow (libjpeg) exactly as a saved file would hold them.

Each image is clipped to [0, 1] and rounded to 8 bits (``uint8(clip(x) * 255 + 0.5)``, the
rounding of :func:`restorekit.io.write_image`), encoded at the quality given (Pillow's
defaults otherwise: the IJG quantisation tables scaled by quality, 4:2:0 chroma subsampling
for colour), decoded, and scaled back to [0, 1]. Gray images are encoded as gray JPEGs;
images with another channel count are encoded one channel at a time, as gray.

>>> y = jpeg_compress(clean, 30)        # doctest: +SKIP
"""

from __future__ import annotations

import io

import numpy as np
import torch

from restorekit.arrays import round_unit

QUALITY_RANGE = (1, 100)


def jpeg_compress(x: torch.Tensor, quality: int | torch.Tensor) -> torch.Tensor:
    """JPEG round trip of ``x`` [B, C, H, W]; ``quality`` an int or one per image ([B]), 1..100."""
    q = torch.as_tensor(quality).reshape(-1)
    if q.numel() == 1:
        q = q.expand(x.shape[0])
    if q.numel() != x.shape[0]:
        raise ValueError(f"jpeg quality must be a number or one per image ([{x.shape[0]}]), got {q.numel()}")
    arrays = x.detach().to("cpu", torch.float64).numpy()
    out = np.stack([_round_trip(a, int(qi)) for a, qi in zip(arrays, q.tolist())])  # [B, C, H, W] uint8
    return torch.from_numpy(out).to(device=x.device, dtype=x.dtype) / 255


def encode_decode(image: np.ndarray, quality: int) -> np.ndarray:
    """uint8 HxW or HxWx3 -> the uint8 image that Pillow decodes from its JPEG at ``quality``."""
    from PIL import Image

    if not QUALITY_RANGE[0] <= quality <= QUALITY_RANGE[1]:
        raise ValueError(f"jpeg quality must be in 1..100, got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded)


def _round_trip(chw: np.ndarray, quality: int) -> np.ndarray:
    """One image [C, H, W] float -> [C, H, W] uint8 after encoding and decoding."""
    u8 = round_unit(chw, np.uint8)
    if u8.shape[0] == 3:
        return encode_decode(np.ascontiguousarray(u8.transpose(1, 2, 0)), quality).transpose(2, 0, 1)
    return np.stack([encode_decode(np.ascontiguousarray(c), quality) for c in u8])
