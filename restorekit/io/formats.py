"""File formats: which suffix means which format, and what each format can hold.

One table per question, so that reading, writing and ``-o`` checks agree:

- :data:`IMAGE_SUFFIXES`: the suffixes restorekit reads and writes;
- :data:`OTHER_IMAGE_SUFFIXES`: names that are plainly images but that restorekit cannot
  write (``.heic``, ``.exr``, ...): an output path ending so is refused, never taken for a folder;
- :data:`DTYPES`, :data:`HOLDS_ALPHA`, :data:`HOLDS_PAGES`: what each format stores.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from restorekit.errors import DataLossWarning, RestorekitError

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")

FORMAT_OF_SUFFIX = {
    ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff",
    ".bmp": "bmp", ".gif": "gif", ".webp": "webp",
}
# Pillow's format names -> ours. MPO (a JPEG with extra views) is read as its primary image.
FORMAT_OF_PILLOW = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "BMP": "bmp", "TIFF": "tiff",
                    "GIF": "gif", "WEBP": "webp"}
PILLOW_NAME = {"png": "PNG", "jpeg": "JPEG", "bmp": "BMP", "gif": "GIF", "webp": "WEBP"}

# Image-like suffixes we recognise but cannot write.
OTHER_IMAGE_SUFFIXES = frozenset({
    ".apng", ".jfif", ".jpe", ".jp2", ".j2k", ".jpx", ".jxl", ".heic", ".heif", ".avif",
    ".exr", ".hdr", ".pfm", ".pgm", ".ppm", ".pbm", ".pnm", ".pam", ".tga", ".ico", ".icns",
    ".psd", ".xcf", ".dds", ".pcx", ".svg", ".eps", ".dng", ".cr2", ".cr3", ".nef", ".arw",
    ".orf", ".rw2", ".raf", ".raw", ".fits", ".fit", ".nii", ".dcm", ".qoi",
})

_u8, _u16 = np.dtype(np.uint8), np.dtype(np.uint16)
# The sample types each format stores, best first; the last is the deepest (the fallback).
DTYPES: dict[str, tuple[np.dtype, ...]] = {
    "png": (_u8, _u16),
    "jpeg": (_u8,),
    "bmp": (_u8,),
    "gif": (_u8,),
    "webp": (_u8,),
    "tiff": tuple(np.dtype(d) for d in (np.uint8, np.uint16, np.int16, np.uint32, np.int32,
                                         np.float16, np.float32, np.float64)),
}
HOLDS_ALPHA = frozenset({"png", "tiff", "bmp", "webp", "gif"})  # GIF: on/off transparency only
HOLDS_PAGES = frozenset({"tiff", "png", "gif", "webp"})  # PNG and WebP as animations
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _supported_list() -> str:
    return ", ".join(IMAGE_SUFFIXES)


def output_format(path: str | Path, *, option: str = "") -> str:
    """The format that ``path``'s suffix names, if this installation can write it.

    Raises :class:`RestorekitError` with one line otherwise: an unknown suffix, an image
    format restorekit does not write (``.heic``), or WebP where Pillow lacks it.
    ``option`` (e.g. ``"-o "``) prefixes the path in the message.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = FORMAT_OF_SUFFIX.get(suffix)
    if fmt is None:
        if suffix in OTHER_IMAGE_SUFFIXES:
            raise RestorekitError(f"{option}{path}: unsupported output format {suffix} (use one of {_supported_list()})")
        raise RestorekitError(
            f"{option}{path}: cannot tell the image format from the suffix (use one of {_supported_list()})")
    if fmt == "webp" and not webp_available():
        raise RestorekitError(f"{option}{path}: unsupported output format .webp (this Pillow was built without WebP)")
    return fmt


def is_image_name(path: Path) -> bool:
    """A name that says "image file": one of ours, or another image suffix."""
    suffix = path.suffix.lower()
    return suffix in FORMAT_OF_SUFFIX or suffix in OTHER_IMAGE_SUFFIXES


def webp_available() -> bool:
    from PIL import features

    return bool(features.check("webp"))


def warn_data_loss(message: str) -> None:
    """A one-line :class:`DataLossWarning`, attributed to the first caller outside restorekit.io."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("restorekit.io"):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, DataLossWarning, stacklevel=level)
