"""TIFF through tifffile: every page, ImageJ and OME stacks, compression, tags and EXIF.

Reading keeps each page's samples in the file's dtype; palette pages become RGB, bilevel
pages 0/255, CMYK pages RGB (``(max - C) * (max - K) / max``, as Pillow does, no colour
management), MINISWHITE pages are inverted to "0 is black" and inverted back on writing.
Writing gives back the page count, shapes, compression (LZW, deflate, JPEG, packbits, zstd,
... through imagecodecs), predictor, planar layout, descriptions, ImageJ metadata, tags,
resolution, ICC profile and EXIF (tifffile cannot write an EXIF IFD, so it is appended to
the finished file and page 0's ExifIFD / GPSIFD pointers are patched to it; not in BigTIFF).
A file whose list of pages breaks (truncated between pages) is refused: tifffile would only
log it and return the pages before the break.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import struct
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from restorekit.errors import ImageReadError
from restorekit.io.info import EXIF_IFD, GPS_IFD, ORIENTATION, TEXT_TAGS, Layout, Metadata
from restorekit.io.metadata import icc_fits, is_plain, read_exif_ifds

COMPRESSION_NAMES = {1: None, 5: "lzw", 8: "zlib", 32946: "zlib", 6: "jpeg", 7: "jpeg",
                     32773: "packbits", 50000: "zstd", 34925: "lzma", 50001: "webp"}
_WRITABLE = frozenset(COMPRESSION_NAMES.values())
_UNITS = {2: "inch", 3: "cm"}
_UNIT_CODES = {"inch": 2, "cm": 3, None: 1}
_IMAGEJ_OWN = ("ImageJ", "images", "channels", "slices", "frames", "hyperstack", "axes")
_IMAGEJ_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
_TAG_EXIF, _TAG_GPS, _TAG_ICC = 34665, 34853, 34675


def read_tiff(path: Path, all_pages: bool):
    """-> (page samples in the file's dtype, page count, descriptions, Layout, Metadata)."""
    import tifffile

    with _complaints() as complaints, tifffile.TiffFile(path) as tif:
        count = len(tif.pages)  # follows the chain of pages (IFDs) to its end
        if complaints:  # tifffile logs a broken chain and stops there: pages would be lost unseen
            raise ImageReadError(f"{path}: damaged or truncated TIFF: its list of pages breaks after page "
                                 f"{count} ({re.sub(r'^<[^>]*> *', '', complaints[0])})")
        complaints.stop()  # the pages are counted: what tifffile says about tags is its own business
        if not count:
            raise ImageReadError(f"{path}: TIFF holds no image")
        first = tif.pages[0]
        wanted = range(count if all_pages else 1)
        # Pages before tif.series, which makes later tif.pages[i] light frames without tags.
        arrays = [_page_samples(path, tif.pages[i]) for i in wanted]
        descriptions = [tif.pages[i].description or None for i in wanted]
        stack = "imagej" if tif.is_imagej else "ome" if tif.is_ome else None
        series = tif.series[0] if stack else None
        layout = Layout(
            compression=COMPRESSION_NAMES.get(int(first.compression), _name(first.compression)),
            predictor=int(first.predictor) if int(first.predictor) > 1 else None,
            planar=int(first.planarconfig) == 2 and first.samplesperpixel > 1,
            photometric=_name(first.photometric),
            stack=stack,
            axes=series.axes if series is not None else None,
            shape=tuple(series.shape) if series is not None else None,
            imagej={k: v for k, v in (tif.imagej_metadata or {}).items() if k not in _IMAGEJ_OWN} or None,
            bigtiff=tif.is_bigtiff,
            filename=path.name,
        )
        metadata = _metadata(path, first, arrays[0])
    return arrays, count, descriptions, layout, metadata


class _Complaints(logging.Filter):
    """Errors tifffile logs in this thread while :func:`_complaints` listens: kept, not printed."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        found = getattr(self.local, "found", None)
        if found is None or record.levelno < logging.ERROR:
            return True
        found.append(record.getMessage())
        return False


class _Heard(list):
    """The complaints heard; ``stop()`` stops listening (later ones print as tifffile logs them)."""

    def stop(self) -> None:
        _Complaints.local.found = None


@contextlib.contextmanager
def _complaints():
    """Listen to tifffile's logged errors (a page list that points past the end of the file)."""
    logger = logging.getLogger("tifffile")
    if not any(isinstance(f, _Complaints) for f in logger.filters):
        logger.addFilter(_Complaints())
    heard = _Complaints.local.found = _Heard()
    try:
        yield heard
    finally:
        _Complaints.local.found = None


def _page_samples(path: Path, page) -> np.ndarray:
    """One page -> HxW or HxWxC samples, "0 is black", samples last."""
    array, axes = page.asarray(), page.axes
    photometric = int(page.photometric)
    extrasamples = tuple(getattr(page, "extrasamples", ()) or ())
    if photometric == 3:  # PALETTE: look the indices up in the 16-bit colour map [3, 2**bits]
        array, axes, photometric = np.moveaxis(_colormap(page.colormap)[:, array], 0, -1), "YXS", 2
    elif page.bitspersample == 1:  # bilevel: 0/1 -> 0/255
        array = array.astype(np.uint8) * np.uint8(255)
    if "S" in axes and array.ndim == len(axes):  # planar pages come as SYX
        array = np.moveaxis(array, axes.index("S"), -1)
    if array.ndim != 2 and not (array.ndim == 3 and array.shape[2] <= 5):
        raise ImageReadError(f"{path}: unsupported TIFF layout {axes} {array.shape}")
    channels = 1 if array.ndim == 2 else array.shape[2]
    if photometric == 6 and int(page.compression) in (6, 7):  # YCbCr JPEG: tifffile gives RGB
        photometric = 2
    if photometric == 5 and channels in (4, 5) and array.dtype in (np.uint8, np.uint16):
        array, channels, photometric = _cmyk_to_rgb(array), channels - 1, 2
    if photometric not in (0, 1, 2):
        raise ImageReadError(f"{path}: unsupported TIFF photometric interpretation {_name(page.photometric)}")
    if channels in (2, 4) and not (extrasamples and extrasamples[-1] in (1, 2)):
        # 2 or 4 samples whose last one is not declared alpha: a mask, CMYK-like data, ...
        raise ImageReadError(f"{path}: {channels}-channel TIFF without an alpha channel is not supported")
    if channels == 5:
        raise ImageReadError(f"{path}: unsupported 5-channel TIFF")
    if photometric == 0:  # MINISWHITE: 0 is white; invert to the usual "0 is black"
        if channels != 1 or not np.issubdtype(array.dtype, np.unsignedinteger):
            raise ImageReadError(f"{path}: unsupported MINISWHITE TIFF ({channels} channels, {array.dtype})")
        array = np.iinfo(array.dtype).max - array
    return array


def _name(value) -> str:
    """A tifffile enum member's name in lower case ('lzw', 'rgb'); a bare number as text."""
    return str(getattr(value, "name", value)).lower()


def _cmyk_to_rgb(array: np.ndarray) -> np.ndarray:
    """CMYK(+alpha) -> RGB(+alpha), naively: each of R, G, B = (max - C) * (max - K) / max."""
    top = float(np.iinfo(array.dtype).max)
    cmy, k = array[..., :3].astype(np.float64), array[..., 3:4].astype(np.float64)
    rgb = ((top - cmy) * (top - k) / top + 0.5).astype(array.dtype)
    return np.concatenate([rgb, array[..., 4:]], axis=-1)


def _colormap(colormap: np.ndarray) -> np.ndarray:
    """A TIFF colour map (16-bit) -> uint8 where it only widens 8-bit colours (c*257 or c*256)."""
    cm = np.asarray(colormap).astype(np.uint16)
    if (cm % 257 == 0).all():
        return (cm // 257).astype(np.uint8)
    if (cm % 256 == 0).all():
        return (cm >> 8).astype(np.uint8)
    return cm


def _metadata(path: Path, page, samples: np.ndarray) -> Metadata:
    def value(code):
        tag = page.tags.get(code)
        return None if tag is None else tag.value

    tags = {name: _text(value(code)) for name, code in TEXT_TAGS.items() if value(code) is not None}
    resolution, unit = None, None
    x, y = value(282), value(283)
    if x is not None and y is not None:
        code = int(value(296) if value(296) is not None else 2)  # TIFF's default unit is the inch
        resolution, unit = (_rational(x), _rational(y)), _UNITS.get(code)
        if unit is None and resolution == (1.0, 1.0):  # tifffile's placeholder: no resolution
            resolution = None
    icc = value(_TAG_ICC)
    channels = 1 if samples.ndim == 2 else samples.shape[2] - (samples.shape[2] in (2, 4))
    icc = bytes(icc) if icc is not None and icc_fits(bytes(icc), channels) else None
    orientation = value(ORIENTATION)
    exif = None
    if _TAG_EXIF in page.tags or _TAG_GPS in page.tags or (orientation is not None and int(orientation) != 1):
        exif = read_exif_ifds(path, int(orientation) if orientation is not None else None)
    return Metadata(exif=exif, icc_profile=icc, resolution=resolution, resolution_unit=unit,
                    description=page.description or None, tags=tags)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _rational(value) -> float:
    if isinstance(value, tuple):
        return value[0] / value[1] if value[1] else 0.0
    return float(value)


# ---------------------------------------------------------------------------------------
# writing


def write_tiff(path: Path, pages: list[np.ndarray], layout: Layout, meta: Metadata,
               descriptions: list[str | None], *, keep_stack: bool, compress: bool, name: str) -> None:
    """Samples (HxW / HxWxC, alpha last, final dtype) -> ``path`` as a TIFF of ``layout``.

    ``keep_stack``: the pages match the file read (count, shapes, dtype), so its ImageJ /
    OME / shaped description still describes them. ``compress``: compress even when the
    layout says none (a file that was not a TIFF). ``name``: the final file name (``path``
    is a temporary one), which OME-XML may cite.
    """
    import tifffile

    bigtiff = layout.bigtiff or sum(p.nbytes for p in pages) > 2**32 - 2**25
    extratags, exif_ifds = _extratags(meta, sub_ifds=not bigtiff)
    common = dict(software="", extratags=extratags, **_resolution(meta))
    channels = 1 if pages[0].ndim == 2 else pages[0].shape[2]
    if meta.icc_profile and icc_fits(meta.icc_profile, channels - (channels in (2, 4))):
        common["iccprofile"] = meta.icc_profile
    if keep_stack and layout.stack == "imagej" and _imagej_ok(pages, layout):
        data = np.stack(pages).reshape(layout.shape)
        try:
            tifffile.imwrite(path, data, imagej=True, metadata={"axes": layout.axes, **(layout.imagej or {})},
                             **_encoding(pages[0], replace(layout, planar=False), compress), **common)
        except ValueError:  # a layout ImageJ files cannot hold after all: write plain pages
            pass
        else:
            _attach_exif(path, exif_ifds)
            return
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tw:
        for i, samples in enumerate(pages):
            text = _description(descriptions[i] if i < len(descriptions) else None, layout, keep_stack, name)
            if _photometric(samples, layout) == "miniswhite":
                samples = np.iinfo(samples.dtype).max - samples
            encoding = _encoding(samples, layout, compress)
            if encoding.get("planarconfig") == "separate":  # tifffile wants planar data as SYX
                samples = np.moveaxis(samples, -1, 0)
            tw.write(samples, metadata=None, description=text.encode("utf-8") if text else None,
                     **encoding, **common)
            common["extratags"] = ()  # tags and EXIF on page 0 only
    _attach_exif(path, exif_ifds)


def _imagej_ok(pages: list[np.ndarray], layout: Layout) -> bool:
    first = pages[0]
    rgb = first.ndim == 3
    return (layout.shape is not None and layout.axes is not None
            and all(p.shape == first.shape and p.dtype == first.dtype for p in pages)
            and first.dtype in _IMAGEJ_DTYPES and (not rgb or (first.shape[2] == 3 and first.dtype == np.uint8))
            and math.prod(layout.shape) == len(pages) * first.size)


def _description(text: str | None, layout: Layout, keep_stack: bool, name: str) -> str | None:
    """A page's description, if it still describes what is written."""
    if not text or is_plain(text):
        return text
    if not keep_stack:  # ImageJ / OME-XML / tifffile's JSON naming pages that are not there
        return None
    if layout.stack == "ome" and layout.filename and layout.filename != name:
        # OME-XML may cite its own file (<UUID FileName="...">): a reader would look for the input
        return text.replace(f'FileName="{layout.filename}"', f'FileName="{name}"')
    return text


def _photometric(samples: np.ndarray, layout: Layout) -> str:
    channels = 1 if samples.ndim == 2 else samples.shape[2]
    if channels == 1 and layout.photometric == "miniswhite" and np.issubdtype(samples.dtype, np.unsignedinteger):
        return "miniswhite"
    return "rgb" if channels >= 3 else "minisblack"


def _encoding(samples: np.ndarray, layout: Layout, compress: bool) -> dict:
    channels = 1 if samples.ndim == 2 else samples.shape[2]
    compression = layout.compression if not compress else (layout.compression or "zlib")
    if compression not in _WRITABLE:  # e.g. JPEG 2000, LERC: kept lossless instead
        compression = "zlib"
    if compression == "jpeg" and not (samples.dtype == np.uint8 and channels in (1, 3)):
        compression = "zlib"  # JPEG holds 8-bit gray or RGB only
    if compression == "webp" and not (samples.dtype == np.uint8 and channels in (3, 4)):
        compression = "zlib"
    kwargs = {"photometric": _photometric(samples, layout), "compression": compression}
    if compression == "jpeg":
        kwargs["compressionargs"] = {"level": 95}
    if compression and layout.predictor:
        kwargs["predictor"] = True  # tifffile picks: horizontal for integers, floating point for floats
    if channels in (2, 4):
        kwargs["extrasamples"] = ("unassalpha",)
    if channels > 1:
        kwargs["planarconfig"] = "separate" if layout.planar else "contig"
    return kwargs


def _resolution(meta: Metadata) -> dict:
    if meta.resolution is None:
        return {}
    return {"resolution": tuple(meta.resolution), "resolutionunit": _UNIT_CODES.get(meta.resolution_unit, 1)}


def _extratags(meta: Metadata, sub_ifds: bool) -> tuple[list, dict]:
    """Page 0's tags: text tags, Orientation, and placeholders for the EXIF / GPS IFD pointers.

    ``sub_ifds=False`` (BigTIFF, whose 8-byte IFDs Pillow cannot write) leaves the IFDs out.
    """
    tags = [(name, "s", 0, str(meta.tags[name]).encode("utf-8"), True)
            for name in TEXT_TAGS if meta.tags.get(name)]
    exif = _exif_object(meta.exif)
    ifds = {}
    if exif is not None:
        if exif.get(ORIENTATION) is not None:
            tags.append(("Orientation", "H", 1, int(exif[ORIENTATION]), True))
        for code, name in ((EXIF_IFD, "ExifTag"), (GPS_IFD, "GPSTag")):
            ifd = exif.get_ifd(code) if sub_ifds else {}
            if ifd:
                ifds[code] = dict(ifd)
                tags.append((name, "I", 1, 0, True))  # value patched by _attach_exif
    return tags, ifds


def _exif_object(blob: bytes | None):
    if not blob:
        return None
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(blob)
        for code in (EXIF_IFD, GPS_IFD):
            exif.get_ifd(code)  # parse now, so that a damaged IFD fails here
    except Exception:  # unreadable EXIF: not carried into the TIFF
        return None
    return exif


def _attach_exif(path: Path, ifds: dict) -> None:
    """Append the EXIF / GPS IFDs to ``path`` and point page 0's placeholder tags at them."""
    if not ifds:
        return
    from PIL import Image

    with open(path, "r+b") as f:
        head = f.read(8)
        if head[2:4] in (b"+\x00", b"\x00+"):
            return  # BigTIFF: not supported by Pillow's IFD writer; the placeholders stay 0
        endian = "<" if head[:2] == b"II" else ">"
        first = struct.unpack(endian + "I", head[4:8])[0]
        f.seek(first)
        (count,) = struct.unpack(endian + "H", f.read(2))
        entries = f.read(12 * count)
        where = {}
        for k in range(count):
            code = struct.unpack(endian + "H", entries[12 * k: 12 * k + 2])[0]
            if code in (_TAG_EXIF, _TAG_GPS):
                where[code] = first + 2 + 12 * k + 8  # the entry's value field
        end = f.seek(0, 2)
        if end % 2:  # IFDs start on a word boundary
            f.write(b"\x00")
            end += 1
        holder = Image.Exif()
        holder.endian = endian
        for code, ifd in ifds.items():
            holder.get_ifd(code).update(ifd)
        # A small IFD placed at ``end`` that holds only the two pointers; its sub-IFDs follow it.
        block = holder.tobytes(end)[14:]  # without "Exif\0\0" and the 8-byte TIFF header
        f.write(block)
        (n,) = struct.unpack(endian + "H", block[:2])
        for k in range(n):
            code, _type, _count, pointer = struct.unpack(endian + "HHII", block[2 + 12 * k: 14 + 12 * k])
            if code in where:
                f.seek(where[code])
                f.write(struct.pack(endian + "I", pointer))
