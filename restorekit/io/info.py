"""What a file held beyond its float pixels: :class:`ImageInfo` and its parts.

``read_image`` / ``read_stack`` fill these in; ``write_image`` / ``write_stack`` read them to
give back a file of the same kind. All are frozen: change one with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

# TIFF's standard text tags (also the first IFD of EXIF in JPEG, PNG and WebP): name -> tag.
TEXT_TAGS = {"DocumentName": 269, "Make": 271, "Model": 272, "PageName": 285, "Software": 305,
             "DateTime": 306, "Artist": 315, "HostComputer": 316, "Copyright": 33432}
EXIF_IFD, GPS_IFD, ORIENTATION, DESCRIPTION = 0x8769, 0x8825, 0x0112, 0x010E


@dataclass(frozen=True)
class Metadata:
    """Descriptive metadata, carried from the file read to the file written.

    ``exif`` is the EXIF block as JPEG's APP1 holds it (``b"Exif\\0\\0"`` + TIFF structure,
    what Pillow's ``Image.Exif.tobytes()`` gives), Orientation included: pixels are always
    returned as stored, never rotated, and the tag is written back, so viewers rotate once.
    ``tags`` are the standard text tags by TIFF name (Make, Model, Software, DateTime,
    Artist, Copyright, ...): a TIFF's own tags, or the EXIF's first IFD for other formats;
    on writing they win over the EXIF's copies.
    """

    exif: bytes | None = None
    icc_profile: bytes | None = None
    resolution: tuple[float, float] | None = None  # pixels per unit, (x, y)
    resolution_unit: str | None = None  # 'inch' | 'cm' | None (no unit: an aspect ratio)
    description: str | None = None  # TIFF ImageDescription of page 0 (or EXIF's, for JPEG/PNG/WebP)
    tags: Mapping[str, str] = field(default_factory=dict)
    text: Mapping[str, str] = field(default_factory=dict)  # PNG tEXt / zTXt / iTXt chunks
    comment: str | None = None  # JPEG COM / GIF comment

    @property
    def orientation(self) -> int | None:
        """EXIF/TIFF Orientation (1-8; 1 = as stored), None when the file has none."""
        value = self.exif_tags().get(ORIENTATION)
        return int(value) if value is not None else None

    @property
    def dpi(self) -> tuple[float, float] | None:
        """``resolution`` in pixels per inch, None without a unit."""
        if self.resolution is None or self.resolution_unit not in ("inch", "cm"):
            return None
        factor = 2.54 if self.resolution_unit == "cm" else 1.0
        return (self.resolution[0] * factor, self.resolution[1] * factor)

    def exif_tags(self) -> dict[int, Any]:
        """The EXIF's first IFD and its Exif sub-IFD merged, by tag number ({} without EXIF)."""
        if not self.exif:
            return {}
        from PIL import Image

        exif = Image.Exif()
        try:
            exif.load(self.exif)
            merged = dict(exif)
            merged.update(exif.get_ifd(EXIF_IFD))
        except Exception:  # a damaged EXIF block is metadata we cannot read, not a failure
            return {}
        return merged


@dataclass(frozen=True)
class Layout:
    """How the file was encoded, so that the same encoding can be written back."""

    compression: str | None = None  # TIFF: 'lzw', 'zlib', 'jpeg', 'packbits', ...; WebP: 'lossless' | 'lossy'
    predictor: int | None = None  # TIFF predictor (2 horizontal differencing, 3 floating point)
    planar: bool = False  # TIFF samples stored plane by plane
    photometric: str | None = None  # TIFF: 'minisblack', 'miniswhite', 'rgb', 'palette', 'ycbcr', 'separated'
    stack: str | None = None  # what describes a TIFF's pages: 'imagej' | 'ome' | None
    axes: str | None = None  # the TIFF series' axes in tifffile's letters, e.g. 'ZCYX'
    shape: tuple[int, ...] | None = None  # the TIFF series' shape
    imagej: Mapping[str, Any] | None = None  # ImageJ metadata (spacing, unit, ranges, labels, ...)
    bigtiff: bool = False
    loop: int | None = None  # animations: times to play (0 = forever)
    filename: str | None = None  # the name of the file read (OME-XML may name it)


@dataclass(frozen=True, eq=False)
class PageInfo:
    """One page or frame as read: what ``write_stack`` needs to give it back."""

    dtype: np.dtype
    alpha: np.ndarray | None = None  # HxW, in ``dtype``, carried through untouched
    description: str | None = None  # this page's TIFF ImageDescription
    duration: float | None = None  # animations: milliseconds this frame shows


@dataclass(frozen=True, eq=False)
class ImageInfo:
    """What an image file held beyond the float pixels: enough to write the same kind back.

    ``dtype``, ``alpha`` are page 0's. ``pages`` counts the pages (TIFF) or frames
    (animated PNG, GIF, WebP) in the file, even when ``read_image`` decoded only the first;
    ``page_info`` has one entry per page decoded. ``value_range`` is (min, max) of the
    samples decoded, in the file's own units (0-255 for uint8), NaN and inf left out.
    """

    dtype: np.dtype  # the file's sample type: uint8, uint16, int16, uint32, float16/32/64, ...
    format: str  # 'png' | 'jpeg' | 'tiff' | 'bmp' | 'gif' | 'webp'
    alpha: np.ndarray | None = None  # HxW alpha in the original dtype, carried through untouched
    pages: int = 1
    value_range: tuple[float, float] | None = None
    metadata: Metadata = field(default_factory=Metadata)
    layout: Layout = field(default_factory=Layout)
    page_info: tuple[PageInfo, ...] = ()
