"""Reading: files -> float32 pages and an :class:`ImageInfo`.

PNG, JPEG, BMP, GIF and WebP go through Pillow; TIFF (recognised by its first bytes,
whatever the name) through tifffile (:mod:`restorekit.io.tiff`). The format is told from the
bytes, not the name: PNG bytes named ``.jpg`` read as the PNG they are.

Pillow reads 16-bit RGB(A) PNG as 8-bit, so those are decoded twice with Pillow's own
decoder (high bytes, then low bytes). Modes are converted so: palette (P, PA) -> RGB or
RGBA, or gray (+ alpha) when every colour used is a gray (GIF frames too: all frames must
be gray, for read_stack; the first, for read_image), bilevel (1) -> gray 0/255, LA -> gray + alpha, CMYK / YCbCr / LAB / HSV -> RGB (no
colour management), I;16 -> uint16, I -> uint16 when its values fit, F -> float32.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from restorekit.errors import ImageReadError
from restorekit.io.formats import FORMAT_OF_PILLOW, TIFF_MAGIC
from restorekit.io.info import ImageInfo, Layout, PageInfo
from restorekit.io.metadata import from_pillow
from restorekit.io.samples import SCALED, split_samples, value_range


def read_image(path: str | os.PathLike) -> tuple[np.ndarray, ImageInfo]:
    """Read an image file as float32: ``HxW`` (gray) or ``HxWx3`` (RGB); the first page only.

    uint8/uint16 files come in [0, 1]; float files in their own range, never clipped.
    An alpha channel is split off into ``info.alpha``, unchanged. ``info.pages`` counts the
    pages or frames of a multi-page file, so callers can warn that only one was read.
    Raises :class:`ImageReadError` (one line naming the file) for a missing, unreadable,
    truncated or unsupported file.

    >>> image, info = read_image("photo.png")   # doctest: +SKIP
    """
    pages, info = _read(Path(path), all_pages=False)
    return pages[0], info


def read_stack(path: str | os.PathLike) -> tuple[list[np.ndarray], ImageInfo]:
    """Read every page (TIFF) or frame (animated PNG, GIF, WebP) as float32 ``HxW`` / ``HxWx3``.

    A single-page file is a stack of one. ``info.page_info`` holds each page's alpha,
    dtype, description and frame duration; ``write_stack`` writes them back.

    >>> pages, info = read_stack("zstack.tif")                    # doctest: +SKIP
    >>> write_stack("out/zstack.tif", [p * 0.5 for p in pages], info)  # doctest: +SKIP
    """
    return _read(Path(path), all_pages=True)


def _read(path: Path, all_pages: bool) -> tuple[list[np.ndarray], ImageInfo]:
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot open ({exc.strerror or exc})") from exc
    if not head:
        raise ImageReadError(f"{path}: empty file")
    try:
        if head[:4] in TIFF_MAGIC:
            from restorekit.io.tiff import read_tiff

            arrays, count, descriptions, layout, metadata = read_tiff(path, all_pages)
            fmt, durations = "tiff", [None] * len(arrays)
        else:
            fmt, arrays, count, durations, layout, metadata = _read_pillow(path, all_pages)
            descriptions = [None] * len(arrays)
    except ImageReadError:
        raise
    except Exception as exc:  # every decoder failure, whatever its type, is one line
        from PIL import UnidentifiedImageError

        if isinstance(exc, UnidentifiedImageError):  # Pillow's message repeats the path
            raise ImageReadError(f"{path}: cannot read image (not a PNG, JPEG, TIFF, BMP, GIF or WebP file)") from exc
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImageReadError(f"{path}: cannot read image ({reason})") from exc

    pages, page_info = [], []
    for array, description, duration in zip(arrays, descriptions, durations):
        image, alpha = split_samples(path, array)
        pages.append(image)
        page_info.append(PageInfo(dtype=array.dtype, alpha=alpha, description=description, duration=duration))
    dtype = page_info[0].dtype
    low_high = value_range(pages)
    if low_high is not None and dtype in SCALED:  # in the file's units: 0-255, 0-65535
        low_high = tuple(float(round(v * SCALED[dtype])) for v in low_high)
    info = ImageInfo(dtype=dtype, format=fmt, alpha=page_info[0].alpha, pages=count, value_range=low_high,
                     metadata=metadata, layout=layout, page_info=tuple(page_info))
    return pages, info


# ---------------------------------------------------------------------------------------
# Pillow


def _read_pillow(path: Path, all_pages: bool):
    from PIL import Image

    with Image.open(path) as im:
        fmt = FORMAT_OF_PILLOW.get(im.format or "")
        if fmt is None or fmt == "tiff":  # TIFF is recognised by its magic bytes before this
            raise ImageReadError(
                f"{path}: unsupported format {im.format or 'unknown'} (supported: PNG, JPEG, TIFF, BMP, GIF, WebP)")
        count = 1 if fmt == "jpeg" else int(getattr(im, "n_frames", 1))
        png16 = _png16_rawmode(im) if count == 1 else None
        arrays, durations = [], []
        palette = fmt == "gif" or im.mode in ("P", "PA")
        if png16 is not None:
            arrays.append(_read_png16(path, im, png16))
        for index in range(len(arrays), count if all_pages else 1):
            im.seek(index)
            im.load()  # decodes now, so that a truncated file fails here
            arrays.append(_pillow_to_array(path, im))
            durations.append(float(im.info["duration"]) if count > 1 and "duration" in im.info else None)
        im.seek(0)
        if palette:
            arrays = _palette_frames(arrays)
        channels = 1 if arrays[0].ndim == 2 or arrays[0].shape[2] <= 2 else 3
        metadata = from_pillow(im, fmt, channels)
        loop = im.info.get("loop") if count > 1 else None
    layout = Layout(compression=_webp_compression(path) if fmt == "webp" else None,
                    loop=int(loop) if loop is not None else None, filename=path.name)
    return fmt, arrays, count, durations or [None], layout, metadata


def _palette_frames(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Frames of a palette image in one layout: gray (+ alpha) if every frame is gray, else RGB(A)."""
    def gray(a: np.ndarray) -> bool:
        return a.ndim == 2 or a.shape[2] == 2 or bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())

    if all(gray(a) for a in arrays):
        return [a if a.ndim == 2 or a.shape[2] == 2 else a[..., [0, 3]] if a.shape[2] == 4 else a[..., 0]
                for a in arrays]
    return [np.stack([a] * 3, axis=-1) if a.ndim == 2 else a[..., [0, 0, 0, 1]] if a.shape[2] == 2 else a
            for a in arrays]


def _pillow_to_array(path: Path, im) -> np.ndarray:
    """A loaded Pillow image -> HxW or HxWxC samples in their own dtype."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(im)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im).astype(np.uint16)
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    if mode == "La":
        return np.asarray(im.convert("LA"))
    if mode == "RGBa":
        return np.asarray(im.convert("RGBA"))
    if mode in ("RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(im.convert("RGB"))
    if mode == "I":  # 32-bit integers: accept only what fits 16 bits (old Pillow's 16-bit PNG)
        array = np.asarray(im)
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise ImageReadError(f"{path}: unsupported 32-bit integer image")
        return array.astype(np.uint16)
    if mode == "F":
        return np.asarray(im).astype(np.float32)
    raise ImageReadError(f"{path}: unsupported image mode {mode}")


def _png16_rawmode(im) -> str | None:
    """The raw mode of a 16-bit colour or gray+alpha PNG, which Pillow would cut to 8 bits."""
    if im.format != "PNG" or len(im.tile) != 1:
        return None
    args = im.tile[0].args
    rawmode = args if isinstance(args, str) else (args[0] if args else None)
    return rawmode if rawmode in ("RGB;16B", "RGBA;16B", "LA;16B") else None


def _read_png16(path: Path, im, rawmode: str) -> np.ndarray:
    """16-bit RGB / RGBA / LA PNG -> uint16 HxWxC with Pillow's decoder.

    Pillow unfilters the PNG in C but keeps only the high byte of each sample ("RGB;16B").
    Decoding again with the little-endian unpacker ("RGB;16L") keeps the other byte of each
    big-endian pair, i.e. the low byte; together they give the 16-bit values. Gray+alpha has
    no such unpacker, but its 4 bytes per pixel copy verbatim into RGBA ("RGBA" raw mode).
    ``im`` (still unloaded) is decoded once here, which also reads the chunks after the pixels.
    """
    from PIL import Image

    def decode(image, new_rawmode: str) -> np.ndarray:
        tile = image.tile[0]
        args = new_rawmode if isinstance(tile.args, str) else (new_rawmode, *tile.args[1:])
        image.tile = [tile._replace(args=args)]
        image.load()
        return np.asarray(image)

    if rawmode == "LA;16B":
        raw = decode(im, "RGBA").astype(np.uint16)  # bytes [L_hi, L_lo, A_hi, A_lo] per pixel
        return np.stack([raw[..., 0] * 256 + raw[..., 1], raw[..., 2] * 256 + raw[..., 3]], axis=-1)
    high = decode(im, rawmode).astype(np.uint16)
    with Image.open(path) as other:
        low = decode(other, rawmode.replace(";16B", ";16L")).astype(np.uint16)
    return high * 256 + low


def _webp_compression(path: Path) -> str:
    """'lossless' when the WebP's (first) image is VP8L, else 'lossy'."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    pos = 12  # after RIFF, size, WEBP
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if kind in (b"VP8L", b"VP8 "):
            return "lossless" if kind == b"VP8L" else "lossy"
        pos += 8 + (16 if kind == b"ANMF" else size + (size & 1))  # into an animation frame's chunks
    return "lossy"
