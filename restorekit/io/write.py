"""Writing: float32 pages and an :class:`ImageInfo` -> a file of the same kind, atomically.

The format comes from the suffix. What a format cannot hold is given up with a
:class:`~restorekit.errors.DataLossWarning` (one line): alpha in JPEG, 16-bit or float
samples in an 8-bit format (or float in 16-bit PNG), more than 256 colours or partial
transparency in GIF, 16-bit animated PNG (Pillow writes 8-bit animations). More pages than a
format holds (JPEG, BMP) is an error.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

from restorekit.atomic import atomic_path
from restorekit.errors import RestorekitError
from restorekit.io.formats import DTYPES, HOLDS_ALPHA, HOLDS_PAGES, PILLOW_NAME, output_format, warn_data_loss
from restorekit.io.info import ImageInfo, Layout, Metadata
from restorekit.io.metadata import pillow_options, png_chunks
from restorekit.io.samples import SCALED, from_float32, to_float32


def write_image(path: str | os.PathLike, image: np.ndarray, info: ImageInfo | None = None, *,
                dtype=None) -> Path:
    """Write ``image`` (float32 ``HxW`` or ``HxWx3``) atomically as one image; return the path.

    The sample type is ``dtype``, else ``info.dtype``, else that of ``image`` when it is
    uint8/uint16 (then written as is), else uint8. Where the format cannot hold that default
    (float as PNG, 16-bit as JPEG) the nearest one it holds is used, with a
    :class:`DataLossWarning`; an explicit ``dtype`` it cannot hold is an error. uint8/uint16
    are clipped to [0, 1] and rounded half up; float samples are written as they are.
    ``info.alpha`` and ``info.metadata`` (EXIF, ICC, resolution, text) are written back.

    >>> write_image("out/photo.png", image * 0.5, info)   # doctest: +SKIP
    """
    return _write(Path(path), [image], info, dtype, stack=False)


def write_stack(path: str | os.PathLike, pages: Sequence[np.ndarray], info: ImageInfo | None = None, *,
                dtype=None) -> Path:
    """Write ``pages`` (from :func:`read_stack`, processed) as one file in ``info``'s layout.

    TIFF keeps the page count, shapes, compression, ImageJ / OME description; PNG, GIF and
    WebP become animations with the frames' durations. Each page gets its own alpha from
    ``info.page_info``. A format holding one image (JPEG, BMP) refuses more than one page.
    """
    pages = list(pages)
    return _write(Path(path), pages, info, dtype, stack=True)


def _write(path: Path, images: list[np.ndarray], info: ImageInfo | None, dtype, stack: bool) -> Path:
    fmt = output_format(path)
    if not images:
        raise RestorekitError(f"{path}: no pages to write")
    if len(images) > 1 and fmt not in HOLDS_PAGES:
        raise RestorekitError(f"{path}: {fmt.upper()} holds one image, got {len(images)} pages (use .tif)")
    first = np.asarray(images[0])
    if info is not None:
        default = np.dtype(info.dtype)
    else:  # integer samples keep their depth; floats become 8-bit
        default = first.dtype if first.dtype in SCALED else np.dtype(np.uint8)
    out_dtype = _output_dtype(path, fmt, default, dtype, animated=len(images) > 1)
    infos = info.page_info if info is not None else ()
    samples = []
    for index, image in enumerate(images):
        if stack and index < len(infos):
            alpha = infos[index].alpha
        else:
            alpha = info.alpha if info is not None and index == 0 else None
        samples.append(_page_samples(path, image, alpha, out_dtype, fmt))
    if fmt not in HOLDS_ALPHA and any(s.ndim == 3 and s.shape[2] in (2, 4) for s in samples):
        warn_data_loss(f"{path}: {fmt.upper()} has no alpha channel; the alpha is dropped")
        samples = [s[..., :-1] if s.ndim == 3 and s.shape[2] in (2, 4) else s for s in samples]
        samples = [s[..., 0] if s.ndim == 3 and s.shape[2] == 1 else s for s in samples]
    meta = info.metadata if info is not None else Metadata()
    layout = info.layout if info is not None and info.format == fmt else Layout()

    with atomic_path(path) as tmp:
        if fmt == "tiff":
            from restorekit.io.tiff import write_tiff

            same = (info is not None and info.format == "tiff" and len(samples) == info.pages
                    and out_dtype == np.dtype(info.dtype))
            descriptions = [p.description for p in infos] if stack else [meta.description]
            if descriptions:
                descriptions[0] = meta.description
            write_tiff(tmp, samples, layout, meta, descriptions, keep_stack=same,
                       compress=info is None or info.format != "tiff", name=path.name)
        elif fmt == "png" and len(samples) == 1 and samples[0].dtype == np.uint16 and samples[0].ndim == 3:
            tmp.write_bytes(_encode_png16(samples[0], png_chunks(meta, _colours(samples[0]))))
        else:
            durations = [p.duration for p in infos] if stack and len(infos) == len(samples) else []
            _save_pillow(tmp, path, samples, fmt, meta, layout, durations, info)
    return path


def _output_dtype(path: Path, fmt: str, default: np.dtype, dtype, animated: bool) -> np.dtype:
    """``dtype`` if the format holds it (else an error); else ``default``, or the nearest it holds."""
    allowed = list(DTYPES[fmt][:1] if fmt == "png" and animated else DTYPES[fmt])
    if dtype is not None:
        wanted = np.dtype(dtype)
        if wanted not in allowed:
            names = ", ".join(str(d) for d in allowed)
            raise RestorekitError(f"{path}: {fmt.upper()} cannot hold {wanted} samples (it holds {names})")
        return wanted
    if default in allowed:
        return default
    chosen = allowed[-1]  # the deepest the format holds: float -> 16-bit PNG, 16-bit -> 8-bit JPEG
    what = "an animated PNG" if fmt == "png" and animated else fmt.upper()
    clip = " (values outside [0, 1] clipped)" if not np.issubdtype(default, np.unsignedinteger) else ""
    warn_data_loss(f"{path}: {what} cannot hold {default} samples; writing {chosen}{clip}")
    return chosen


def _page_samples(path: Path, image, alpha, out_dtype: np.dtype, fmt: str) -> np.ndarray:
    """One float page (+ alpha) -> HxW / HxWxC samples in ``out_dtype``, alpha last."""
    array = np.asarray(image)
    if not np.issubdtype(array.dtype, np.floating):
        array = to_float32(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise RestorekitError(f"{path}: cannot write an image of shape {array.shape} (expected HxW or HxWx3)")
    samples = from_float32(array, out_dtype)
    if alpha is None:
        return samples
    if alpha.shape != samples.shape[:2]:
        raise RestorekitError(f"{path}: alpha is {alpha.shape[0]}x{alpha.shape[1]} but the image is "
                              f"{samples.shape[0]}x{samples.shape[1]}")
    if alpha.dtype != out_dtype:
        alpha = from_float32(_alpha_float(alpha), out_dtype)
    gray = samples.ndim == 2
    return np.concatenate([samples[..., None] if gray else samples, alpha[..., None]], axis=-1)


def _alpha_float(alpha: np.ndarray) -> np.ndarray:
    """Alpha as [0, 1] floats, whatever its type (integers scaled by their full range)."""
    if np.issubdtype(alpha.dtype, np.integer) and alpha.dtype not in SCALED:
        return alpha.astype(np.float64) / float(np.iinfo(alpha.dtype).max)
    return to_float32(alpha)


def _colours(samples: np.ndarray) -> int:
    return 1 if samples.ndim == 2 or samples.shape[2] == 2 else 3


def _save_pillow(tmp: Path, path: Path, samples: list[np.ndarray], fmt: str, meta: Metadata,
                 layout: Layout, durations: list, info: ImageInfo | None) -> None:
    from PIL import Image

    frames = []
    for s in samples:
        im = Image.fromarray(s)
        if fmt in ("bmp", "gif") and im.mode == "LA":  # neither has gray+alpha
            im = im.convert("RGBA")
        frames.append(im)
    options = pillow_options(meta, fmt, _colours(samples[0]), path)
    if fmt == "jpeg":
        options["quality"] = 95
    if fmt == "webp":
        lossy = layout.compression == "lossy" or (info is not None and info.format == "jpeg")
        options.update({"quality": 95} if lossy else {"lossless": True})
    if fmt == "gif":
        _check_gif(path, samples)
        if any(s.ndim == 3 and s.shape[2] in (2, 4) for s in samples):
            options["disposal"] = 2  # frames are whole images: clear before drawing the next
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], loop=layout.loop if layout.loop is not None else 0)
        if durations and all(d is not None for d in durations):
            options["duration"] = [int(round(d)) for d in durations]
    frames[0].save(tmp, format=PILLOW_NAME[fmt], **options)


def _check_gif(path: Path, samples: list[np.ndarray]) -> None:
    """Warn for what GIF's 256-colour palette and on/off transparency lose."""
    for s in samples:
        channels = 1 if s.ndim == 2 else s.shape[2]
        if channels in (2, 4) and not np.isin(s[..., -1], (0, 255)).all():
            warn_data_loss(f"{path}: GIF keeps only on/off transparency; partial alpha is lost")
            break
    for s in samples:
        colour = s if s.ndim == 2 else s[..., : 3 if s.shape[2] >= 3 else 1]
        flat = colour.reshape(-1, 1 if colour.ndim == 2 else colour.shape[-1])
        if flat.shape[1] > 1 and len(np.unique(flat.view([("", flat.dtype)] * flat.shape[1]))) > 256:
            warn_data_loss(f"{path}: GIF holds 256 colours per frame; the frames are quantized")
            break


def _encode_png16(samples: np.ndarray, extra: list[tuple[bytes, bytes]] = ()) -> bytes:
    """uint16 HxWxC (C = 2 gray+alpha, 3 RGB, 4 RGBA) -> bytes of a 16-bit PNG.

    Each row uses the "Up" filter (difference with the row above, mod 256), which needs no
    per-pixel loop and compresses photos well. ``extra`` chunks (metadata) go before IDAT.
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
        + b"".join(chunk(kind, data) for kind, data in extra)
        + chunk(b"IDAT", zlib.compress(filtered.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
