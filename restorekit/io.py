"""Read and write images: PNG, JPEG, TIFF, BMP files <-> float32 [0, 1] numpy arrays.

Every image inside restorekit is float32 in [0, 1], ``HxW`` (gray) or ``HxWx3`` (RGB).
:func:`read_image` converts a file to that and returns an :class:`ImageInfo` that remembers
what the file held (sample type, format, alpha), so that :func:`write_image` can give back a
file of the same kind: a 16-bit gray PNG comes back as a 16-bit gray PNG, an RGBA PNG with
its alpha bit-exact.

PNG, JPEG and BMP go through Pillow; TIFF (8/16-bit, float32) through tifffile. Pillow
reads 16-bit RGB(A) PNG as 8-bit and cannot write it, so those are read by decoding the
file twice with Pillow's own decoder (high bytes, then low bytes) and written by a small
PNG encoder here (:func:`_encode_png16`).

>>> image, info = read_image("photo.png")               # doctest: +SKIP
>>> write_image("out/photo.png", image * 0.5, info)     # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from restorekit.atomic import atomic_path
from restorekit.errors import ImageReadError, RestorekitError

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

_FORMAT_OF_SUFFIX = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
}
_FORMAT_OF_PILLOW = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "BMP": "bmp", "TIFF": "tiff"}
# The sample types each format can store, best first (used when the wanted one does not fit).
_DTYPES_OF_FORMAT = {
    "png": (np.uint8, np.uint16),
    "jpeg": (np.uint8,),
    "bmp": (np.uint8,),
    "tiff": (np.uint8, np.uint16, np.float32),
}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


@dataclass(frozen=True, eq=False)
class ImageInfo:
    """What an image file held beyond the float pixels: enough to write the same kind back."""

    dtype: np.dtype  # the file's sample type: uint8, uint16 or float32
    format: str  # 'png' | 'jpeg' | 'tiff' | 'bmp'
    alpha: np.ndarray | None = None  # HxW alpha in the original dtype, carried through untouched


# ---------------------------------------------------------------------------------------
# dtype conversion


def to_float32(array: np.ndarray) -> np.ndarray:
    """uint8 / uint16 / bool / float -> float32, integers scaled to [0, 1]; floats kept as they are."""
    array = np.asarray(array)
    if array.dtype in _SCALE:
        return array.astype(np.float32) / np.float32(_SCALE[array.dtype])
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    raise TypeError(f"cannot convert {array.dtype} image to float32 (expected uint8, uint16 or float)")


def from_float32(image: np.ndarray, dtype) -> np.ndarray:
    """float [0, 1] -> ``dtype``, clipped; integers rounded half up: ``uint8(clip(x)*255 + 0.5)``.

    This is the rounding of the papers' evaluation protocol, so that a restored image written
    to disk and read back scores the PSNR the tables report. NaN becomes 0.
    """
    dtype = np.dtype(dtype)
    x = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0), 0.0, 1.0)
    if dtype in _SCALE:
        # float64 so that x*65535 + 0.5 rounds exactly (float32 has 24 bits of mantissa).
        return (x.astype(np.float64) * _SCALE[dtype] + 0.5).astype(dtype)
    if dtype == np.float32:
        return x
    raise TypeError(f"cannot write {dtype} images (expected uint8, uint16 or float32)")


# ---------------------------------------------------------------------------------------
# reading


def read_image(path: str | os.PathLike) -> tuple[np.ndarray, ImageInfo]:
    """Read an image file as float32 in [0, 1]: ``HxW`` (gray) or ``HxWx3`` (RGB).

    An alpha channel (RGBA, gray+alpha) is split off into ``info.alpha``, unchanged.
    Palette and bilevel images become RGB / gray; CMYK JPEG becomes RGB.
    Raises :class:`ImageReadError` (one line naming the file) for a missing, unreadable,
    truncated or unsupported file.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot open ({exc.strerror or exc})") from exc
    if not head:
        raise ImageReadError(f"{path}: empty file")
    try:
        if head in _TIFF_MAGIC:
            array, fmt = _read_tiff(path), "tiff"
        else:
            array, fmt = _read_pillow(path)
    except ImageReadError:
        raise
    except Exception as exc:  # every decoder failure, whatever its type, is one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImageReadError(f"{path}: cannot read image ({reason})") from exc
    return _split_alpha(path, array, fmt)


def _split_alpha(path: Path, array: np.ndarray, fmt: str) -> tuple[np.ndarray, ImageInfo]:
    """HxW / HxWx{1,2,3,4} samples in the file's dtype -> (float32 image, ImageInfo)."""
    if array.dtype not in (np.uint8, np.uint16, np.float32):
        raise ImageReadError(f"{path}: unsupported sample type {array.dtype} (expected 8/16-bit or float32)")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    alpha = None
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array, alpha = array[:, :, :-1], np.ascontiguousarray(array[:, :, -1])
        if array.shape[2] == 1:
            array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ImageReadError(f"{path}: unsupported image shape {array.shape} (expected gray, RGB or RGBA)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageReadError(f"{path}: empty image {array.shape}")
    image = np.ascontiguousarray(to_float32(array))
    return image, ImageInfo(dtype=array.dtype, format=fmt, alpha=alpha)


def _read_pillow(path: Path) -> tuple[np.ndarray, str]:
    from PIL import Image

    with Image.open(path) as im:
        fmt = _FORMAT_OF_PILLOW.get(im.format or "")
        if fmt is None or fmt == "tiff":  # TIFF is recognised by its magic bytes before this
            raise ImageReadError(
                f"{path}: unsupported format {im.format or 'unknown'} (supported: PNG, JPEG, TIFF, BMP)"
            )
        png16 = _png16_rawmode(im)
        if png16 is not None:
            return _read_png16(path, png16), fmt
        im.load()  # decodes now, so that a truncated file fails here
        if im.getexif().get(0x0112, 1) != 1:
            # A camera's "rotate on display" tag: apply it, since the files we write carry no EXIF.
            from PIL import ImageOps

            im = ImageOps.exif_transpose(im)
        return _pillow_to_array(path, im), fmt


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
    if mode in ("La",):
        return np.asarray(im.convert("LA"))
    if mode in ("RGBa",):
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


def _read_png16(path: Path, rawmode: str) -> np.ndarray:
    """16-bit RGB / RGBA / LA PNG -> uint16 HxWxC with Pillow's decoder.

    Pillow unfilters the PNG in C but keeps only the high byte of each sample ("RGB;16B").
    Decoding again with the little-endian unpacker ("RGB;16L") keeps the other byte of each
    big-endian pair, i.e. the low byte; together they give the 16-bit values. Gray+alpha has
    no such unpacker, but its 4 bytes per pixel copy verbatim into RGBA ("RGBA" raw mode).
    """
    from PIL import Image

    def decode(new_rawmode: str) -> np.ndarray:
        with Image.open(path) as im:
            tile = im.tile[0]
            args = new_rawmode if isinstance(tile.args, str) else (new_rawmode, *tile.args[1:])
            im.tile = [tile._replace(args=args)]
            im.load()
            return np.asarray(im)

    if rawmode == "LA;16B":
        raw = decode("RGBA").astype(np.uint16)  # bytes [L_hi, L_lo, A_hi, A_lo] per pixel
        return np.stack([raw[..., 0] * 256 + raw[..., 1], raw[..., 2] * 256 + raw[..., 3]], axis=-1)
    high = decode(rawmode).astype(np.uint16)
    low = decode(rawmode.replace(";16B", ";16L")).astype(np.uint16)
    return high * 256 + low


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.pages:
            raise ImageReadError(f"{path}: TIFF holds no image")
        page = tif.pages[0]
        array = page.asarray()
        axes = page.axes
        extrasamples = tuple(getattr(page, "extrasamples", ()) or ())
        photometric = int(page.photometric)
        if photometric == 3:  # PALETTE: look the indices up in the 16-bit colour map [3, 2**bits]
            array = np.moveaxis(_colormap(page.colormap)[:, array], 0, -1)
            photometric, axes = 2, "YXS"
        elif page.bitspersample == 1:  # bilevel: 0/1 -> 0/255
            array = array.astype(np.uint8) * np.uint8(255)
    # Move the sample axis last: planar TIFFs give SYX.
    if "S" in axes and array.ndim == len(axes):
        array = np.moveaxis(array, axes.index("S"), -1)
    if array.ndim != 2 and not (array.ndim == 3 and array.shape[2] <= 4):
        raise ImageReadError(f"{path}: unsupported TIFF layout {axes} {array.shape}")
    if photometric not in (0, 1, 2):  # MINISWHITE, MINISBLACK, RGB; not palette, CMYK, YCbCr...
        raise ImageReadError(f"{path}: unsupported TIFF photometric interpretation {photometric}")
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels in (2, 4) and not (extrasamples and extrasamples[-1] in (1, 2)):
        # 2 or 4 samples whose last one is not declared alpha: a mask, CMYK-like data, ...
        raise ImageReadError(f"{path}: {channels}-channel TIFF without an alpha channel is not supported")
    if photometric == 0:  # MINISWHITE: 0 is white; invert to the usual "0 is black"
        if channels != 1 or array.dtype not in _SCALE:
            raise ImageReadError(f"{path}: unsupported MINISWHITE TIFF ({channels} channels, {array.dtype})")
        array = (int(_SCALE[array.dtype]) - array).astype(array.dtype)
    if array.dtype in (np.float16, np.float64):
        array = array.astype(np.float32)
    return array


def _colormap(colormap: np.ndarray) -> np.ndarray:
    """A TIFF colour map (16-bit) -> uint8 where it only widens 8-bit colours (c*257 or c*256)."""
    cm = np.asarray(colormap).astype(np.uint16)
    if (cm % 257 == 0).all():
        return (cm // 257).astype(np.uint8)
    if (cm % 256 == 0).all():
        return (cm >> 8).astype(np.uint8)
    return cm


# ---------------------------------------------------------------------------------------
# writing


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    info: ImageInfo | None = None,
    *,
    dtype=None,
) -> Path:
    """Write ``image`` (float [0, 1], ``HxW`` or ``HxWx3``) atomically; return the path.

    The format comes from the suffix. The sample type is ``dtype``, else ``info.dtype``,
    else that of ``image`` when it is uint8/uint16 (then written as is), else uint8. Where
    the format cannot hold that default (float32 as PNG, 16-bit as JPEG) the nearest one it
    holds is used; an explicit ``dtype`` it cannot hold is an error.
    Values are clipped to [0, 1] and rounded half up. ``info.alpha`` is put back (converted
    only if the sample type changed); JPEG, which has no alpha, drops it.
    16-bit colour PNG is written by a small encoder here, since Pillow cannot.
    """
    path = Path(path)
    fmt = _FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise RestorekitError(
            f"{path}: cannot tell the image format from the suffix (use one of {', '.join(IMAGE_SUFFIXES)})"
        )
    array = np.asarray(image)
    if info is not None:
        default = np.dtype(info.dtype)
    else:  # integer samples keep their depth; floats become 8-bit
        default = array.dtype if array.dtype in _SCALE else np.dtype(np.uint8)
    if not np.issubdtype(array.dtype, np.floating):
        array = to_float32(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise RestorekitError(f"{path}: cannot write an image of shape {array.shape} (expected HxW or HxWx3)")

    out_dtype = _output_dtype(path, fmt, default, dtype)
    samples = from_float32(array, out_dtype)
    alpha = info.alpha if info is not None and fmt != "jpeg" else None
    if alpha is not None:
        if alpha.shape != samples.shape[:2]:
            raise RestorekitError(
                f"{path}: alpha is {alpha.shape[0]}x{alpha.shape[1]} but the image is "
                f"{samples.shape[0]}x{samples.shape[1]}"
            )
        if alpha.dtype != out_dtype:
            alpha = from_float32(to_float32(alpha), out_dtype)
        gray = samples.ndim == 2
        samples = np.concatenate([samples[..., None] if gray else samples, alpha[..., None]], axis=-1)

    with atomic_path(path) as tmp:
        _encode(tmp, samples, fmt)
    return path


def _output_dtype(path: Path, fmt: str, default: np.dtype, dtype) -> np.dtype:
    """``dtype`` if the format holds it (else an error); else ``default``, or the nearest it holds."""
    allowed = [np.dtype(d) for d in _DTYPES_OF_FORMAT[fmt]]
    if dtype is not None:
        wanted = np.dtype(dtype)
        if wanted not in allowed:
            names = ", ".join(str(d) for d in allowed)
            raise RestorekitError(f"{path}: {fmt.upper()} cannot hold {wanted} samples (it holds {names})")
        return wanted
    if default in allowed:
        return default
    return allowed[-1]  # the deepest the format holds: float32 -> 16-bit PNG, 16-bit -> 8-bit JPEG


def _encode(path: Path, samples: np.ndarray, fmt: str) -> None:
    """HxW or HxWxC samples (C = 2 gray+alpha, 3, 4) in their final dtype -> file."""
    if fmt == "tiff":
        import tifffile

        channels = 1 if samples.ndim == 2 else samples.shape[2]
        kwargs = {"photometric": "rgb" if channels >= 3 else "minisblack"}
        if channels in (2, 4):
            kwargs["extrasamples"] = ("unassalpha",)
        if channels > 1:
            kwargs["planarconfig"] = "contig"
        tifffile.imwrite(path, samples, compression="zlib", **kwargs)
        return
    if fmt == "png" and samples.dtype == np.uint16 and samples.ndim == 3:
        path.write_bytes(_encode_png16(samples))
        return

    from PIL import Image

    if samples.dtype == np.uint16:  # 16-bit gray PNG
        im = Image.fromarray(samples, mode=None)
    else:
        im = Image.fromarray(samples)
    options = {"quality": 95} if fmt == "jpeg" else {}
    if fmt == "bmp" and im.mode == "LA":  # BMP has no gray+alpha
        im = im.convert("RGBA")
    im.save(path, format={"png": "PNG", "jpeg": "JPEG", "bmp": "BMP"}[fmt], **options)


def _encode_png16(samples: np.ndarray) -> bytes:
    """uint16 HxWxC (C = 2 gray+alpha, 3 RGB, 4 RGBA) -> bytes of a 16-bit PNG.

    Each row uses the "Up" filter (difference with the row above, mod 256), which needs no
    per-pixel loop and compresses photos well.
    """
    height, width, channels = samples.shape
    color_type = {2: 4, 3: 2, 4: 6}[channels]
    rows = samples.astype(">u2").reshape(height, width * channels).view(np.uint8)  # [H, W*C*2] bytes
    up = rows.copy()
    up[1:] -= rows[:-1]  # uint8 arithmetic wraps mod 256, as the PNG filter wants
    filtered = np.concatenate([np.full((height, 1), 2, np.uint8), up], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(filtered.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------
# finding images


def list_images(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Files, folders (their images, not recursive, sorted) and glob patterns -> image paths.

    A file named explicitly is kept whatever its suffix (reading it says what is wrong);
    folders and patterns keep only files with an image suffix. Duplicates are dropped.
    Raises :class:`RestorekitError` for a missing path or an input that yields no image.
    """
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.is_file() and _is_image_name(p))
            if not matches:
                raise RestorekitError(f"{path}: no images in this folder ({', '.join(IMAGE_SUFFIXES)})")
        elif path.is_file():
            matches = [path]
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file() and _is_image_name(Path(p)))
            if not matches:
                raise RestorekitError(f"{text}: no images match this pattern")
        else:
            raise RestorekitError(f"{path}: no such file or folder")
        found.extend(matches)
    if not found:
        raise RestorekitError("no input images given")
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
