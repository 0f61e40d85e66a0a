"""Metadata between files and :class:`~restorekit.io.info.Metadata`: EXIF, ICC, resolution, text.

Where each item lives, per format (read and written back):

============  ==========================  =====================  ==========================
item          JPEG                        PNG                    TIFF
============  ==========================  =====================  ==========================
EXIF          APP1                        eXIf chunk             ExifIFD / GPSIFD (+ tags)
ICC profile   APP2                        iCCP chunk             InterColorProfile tag
resolution    JFIF density (inch/cm)      pHYs (pixels/metre)    X/YResolution, unit tag
text          COM comment                 tEXt / zTXt / iTXt     ImageDescription, text tags
============  ==========================  =====================  ==========================

WebP keeps EXIF and ICC; BMP keeps resolution; GIF keeps its comment; the rest is dropped by
those formats. An ICC profile is kept only while it fits the pixels (an RGB profile with
RGB pixels, a gray one with gray): a CMYK JPEG's profile is dropped when it is read as RGB.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from restorekit.io.formats import warn_data_loss
from restorekit.io.info import DESCRIPTION, EXIF_IFD, GPS_IFD, ORIENTATION, TEXT_TAGS, Metadata

EXIF_HEADER = b"Exif\x00\x00"
_JPEG_SEGMENT = 65533  # the most an APP1 segment holds


def is_plain(text: str) -> bool:
    """Prose, not a machine description (ImageJ header, OME-XML, tifffile's JSON shape)."""
    head = text.lstrip()[:16]
    return not (head.startswith(("ImageJ=", "<", "{")))


def icc_fits(icc: bytes, channels: int) -> bool:
    """Whether an ICC profile's colour space (header bytes 16-20) is that of the pixels."""
    space = icc[16:20] if len(icc) >= 20 else b""
    return space == (b"GRAY" if channels == 1 else b"RGB ")


# ---------------------------------------------------------------------------------------
# reading


def from_pillow(im, fmt: str, channels: int) -> Metadata:
    """The metadata of an opened, loaded Pillow image whose pixels have ``channels`` colours."""
    info = im.info
    exif = info.get("exif")
    exif = (exif if exif.startswith(EXIF_HEADER) else EXIF_HEADER + exif) if isinstance(exif, bytes) and exif else None
    first = Metadata(exif=exif).exif_tags()
    tags = {name: first[code] for name, code in TEXT_TAGS.items() if isinstance(first.get(code), str)}
    description = first.get(DESCRIPTION)
    icc = info.get("icc_profile") or None
    comment = info.get("comment")
    if isinstance(comment, bytes):
        comment = comment.decode("utf-8", "replace")
    resolution, unit = _pillow_resolution(info, fmt)
    return Metadata(
        exif=exif,
        icc_profile=icc if icc and icc_fits(icc, channels) else None,
        resolution=resolution, resolution_unit=unit,
        description=description if isinstance(description, str) else None,
        tags=tags,
        text={str(k): str(v) for k, v in getattr(im, "text", {}).items()} if fmt == "png" else {},
        comment=comment or None,
    )


def _pillow_resolution(info: dict, fmt: str):
    if fmt == "jpeg":
        unit, density = info.get("jfif_unit"), info.get("jfif_density")
        if density and unit in (1, 2):
            return (float(density[0]), float(density[1])), ("inch" if unit == 1 else "cm")
        if density and unit == 0 and tuple(density) != (1, 1):
            return (float(density[0]), float(density[1])), None  # an aspect ratio only
    if fmt in ("png", "bmp") and info.get("dpi"):
        # stored as whole pixels per metre: exact in pixels per centimetre
        return tuple(round(d / 0.0254) / 100 for d in info["dpi"]), "cm"
    if fmt == "png" and info.get("aspect"):
        return tuple(float(a) for a in info["aspect"]), None
    if info.get("dpi"):  # JPEG without JFIF density: from its EXIF
        return tuple(float(d) for d in info["dpi"]), "inch"
    return None, None


def read_exif_ifds(path: Path, orientation: int | None) -> bytes | None:
    """A TIFF's EXIF as a JPEG-style block: Orientation, the Exif and GPS IFDs of page 0."""
    from PIL import Image

    out = Image.Exif()
    found = orientation is not None
    if orientation is not None:
        out[ORIENTATION] = orientation
    try:
        with open(path, "rb") as fp:
            src = Image.Exif()
            src.load_from_fp(fp)  # page 0's IFD
            out.endian = src.endian
            for code in (EXIF_IFD, GPS_IFD):
                ifd = src.get_ifd(code)  # the pointers themselves are hidden from `in`
                if ifd:
                    out.get_ifd(code).update(ifd)
                    found = True
    except Exception:  # an unreadable EXIF IFD (or a BigTIFF) is metadata lost, not a failed read
        out, found = Image.Exif(), orientation is not None
        if orientation is not None:
            out[ORIENTATION] = orientation
    return out.tobytes() if found else None


# ---------------------------------------------------------------------------------------
# writing


def exif_for_output(meta: Metadata) -> bytes | None:
    """The EXIF block to write: ``meta.exif`` with ``meta.tags`` (and a plain description) in it."""
    wanted = {code: str(meta.tags[name]) for name, code in TEXT_TAGS.items() if meta.tags.get(name)}
    if meta.description and is_plain(meta.description):
        wanted[DESCRIPTION] = meta.description
    if not meta.exif and not wanted:
        return None
    from PIL import Image

    exif = Image.Exif()
    if meta.exif:
        try:
            exif.load(meta.exif)
        except Exception:
            return meta.exif  # written back as it came
        if all(exif.get(code) == value for code, value in wanted.items()):
            return meta.exif  # nothing changed: the original bytes, thumbnail and all
    for code, value in wanted.items():
        exif[code] = value
    return exif.tobytes()


def pillow_options(meta: Metadata, fmt: str, channels: int, path: Path) -> dict:
    """Keyword arguments for Pillow's ``save`` that write ``meta`` in format ``fmt``."""
    options: dict = {}
    if fmt in ("jpeg", "png", "webp"):
        exif = exif_for_output(meta)
        if exif and fmt == "jpeg" and len(exif) > _JPEG_SEGMENT:
            warn_data_loss(f"{path}: EXIF of {len(exif)} bytes does not fit a JPEG segment; not written")
        elif exif:
            options["exif"] = exif
        if meta.icc_profile and icc_fits(meta.icc_profile, channels):
            options["icc_profile"] = meta.icc_profile
    if fmt in ("jpeg", "png", "bmp") and meta.dpi:
        options["dpi"] = meta.dpi
    if fmt == "png" and meta.text:
        from PIL import PngImagePlugin

        chunks = PngImagePlugin.PngInfo()
        for key, value in meta.text.items():
            try:
                chunks.add_text(key, value, zip=len(value) > 1024)
            except UnicodeEncodeError:  # not Latin-1: an international text chunk
                chunks.add_itxt(key, value, zip=len(value) > 1024)
        options["pnginfo"] = chunks
    if fmt in ("jpeg", "gif") and meta.comment:
        options["comment"] = meta.comment
    return options


def png_chunks(meta: Metadata, channels: int) -> list[tuple[bytes, bytes]]:
    """PNG chunks (type, data) that carry ``meta``: for the 16-bit encoder, which is not Pillow."""
    chunks = []
    if meta.icc_profile and icc_fits(meta.icc_profile, channels):
        chunks.append((b"iCCP", b"ICC profile\x00\x00" + zlib.compress(meta.icc_profile)))
    if meta.dpi:
        x, y = (int(d / 0.0254 + 0.5) for d in meta.dpi)
        chunks.append((b"pHYs", struct.pack(">IIB", x, y, 1)))
    elif meta.resolution:
        chunks.append((b"pHYs", struct.pack(">IIB", *(int(r) for r in meta.resolution), 0)))
    exif = exif_for_output(meta)
    if exif:
        chunks.append((b"eXIf", exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif))
    for key, value in meta.text.items():
        try:
            chunks.append((b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
        except UnicodeEncodeError:  # iTXt: keyword, 0, no compression, method 0, no language, 0
            chunks.append((b"iTXt", key.encode("latin-1", "replace") + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")))
    return chunks
