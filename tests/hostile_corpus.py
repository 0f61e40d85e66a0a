"""A corpus of hostile image files, generated at test time (no committed binaries), and a probe.

:func:`build` writes every case into a folder and returns their :class:`Case` records;
:func:`probe` describes a file with Pillow, tifffile and the raw bytes only, never with
restorekit.io, so that a test comparing an input's probe with its output's does not trust
the code under test to say what either file holds.

Cases come in three kinds:

- **broken**: truncated PNG / JPEG / TIFF (a TIFF cut inside the pixels, and one cut between
  pages, whose page list then ends early), a zero-byte file and text named ``.png``: every
  command must refuse them with one line;
- **awkward but valid**: mislabelled files, 1x1, 1x5000 and 5000x1, float with NaN/inf, HDR
  float (up to 1000), multi-page TIFF (gray and RGB, 16-bit), animated PNG, 16-bit PNG and
  TIFF, LA / RGBA / palette / CMYK / I;16 modes, EXIF + ICC + DPI in JPEG, PNG and TIFF,
  LZW / deflate / JPEG-compressed TIFF, a non-ASCII name;
- each case says which commands may refuse it (``refused``: command -> why, one line
  expected) and what its output legitimately differs in (``changes``: documented in
  docs/files.md).
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

H, W = 36, 44  # small, not square, and big enough to identify noise in (32x32)
MAKE, MODEL, ORIENTATION, DPI = "RKCam", "Hostile 1", 6, 300.0
COMMANDS = ("read", "denoise", "deblur", "degrade", "evaluate")


@dataclass
class Case:
    name: str  # the file name in the corpus folder
    kind: str  # "broken" or "valid"
    gray: bool = True  # colour channels 1 (else 3): picks the model for ``denoise --model``
    refused: dict[str, str] = field(default_factory=dict)  # command -> why it refuses (one line)
    changes: dict[str, object] = field(default_factory=dict)  # probe key -> the documented output value
    nan: bool = False  # holds NaN / inf: refused unless --nan fill

    def refuses(self, command: str) -> bool:
        return self.kind == "broken" or command in self.refused


# ---------------------------------------------------------------------------------------
# pixels and encoders


def _pattern(h: int = H, w: int = W, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A smooth image with some noise, float64 in [0, 1], HxW or HxWxC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    base = 0.5 + 0.3 * np.sin(xx / 4.0 + 0.3) * np.cos(yy / 5.0)
    if channels > 1:
        base = np.stack([base * (0.7 + 0.1 * c) + 0.05 * c for c in range(channels)], axis=-1)
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1)


def _u8(x: np.ndarray) -> np.ndarray:
    return (x * 255 + 0.5).astype(np.uint8)


def _u16(x: np.ndarray) -> np.ndarray:
    return (x * 65535 + 0.5).astype(np.uint16)


def _png16(samples: np.ndarray) -> bytes:
    """uint16 HxWxC (C = 3 or 4) -> a 16-bit PNG, filter 0 (Pillow cannot write these)."""
    h, w, c = samples.shape
    rows = samples.astype(">u2").reshape(h, w * c).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, {3: 2, 4: 6}[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _exif() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[271], exif[272], exif[274] = MAKE, MODEL, ORIENTATION
    return exif.tobytes()


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pillow_bytes(array: np.ndarray, fmt: str, mode: str | None = None, **options) -> bytes:
    from PIL import Image

    # Pillow tells L, LA, RGB, RGBA and I;16 from the array; other modes come from the bytes
    im = Image.frombytes(mode, array.shape[1::-1], array.tobytes()) if mode else Image.fromarray(array)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def _tiff_bytes(data: np.ndarray, **options) -> bytes:
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, data, metadata=None, **options)
    return buf.getvalue()


def _tiff_pages(pages: list[np.ndarray], **options) -> bytes:
    import tifffile

    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        for page in pages:
            tw.write(page, metadata=None, **options)
    return buf.getvalue()


def _cut_between_pages(data: bytes) -> bytes:
    """A multi-page TIFF cut where page 1's IFD starts: page 0 is whole, the list of pages
    points past the end of the file (tifffile alone would read it as one page)."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        first, second = tif.pages[0], tif.pages[1].offset
        end = max(o + n for o, n in zip(first.dataoffsets, first.databytecounts))
    assert second >= end, "tifffile wrote page 1's IFD inside page 0's data"
    return data[:second]


# ---------------------------------------------------------------------------------------
# the corpus


def build(root: Path) -> list[Case]:
    """Write every case into ``root`` (created); return the cases, in a fixed order."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    gray8, rgb8 = _u8(_pattern()), _u8(_pattern(channels=3))
    exif, icc = _exif(), _icc()
    small = "is too small"
    cases: list[tuple[Case, bytes]] = []

    def add(case: Case, data: bytes) -> None:
        cases.append((case, data))

    # broken files: every command refuses them in one line
    png = _pillow_bytes(rgb8, "PNG")
    jpeg = _pillow_bytes(rgb8, "JPEG", quality=90)
    tiff16 = _tiff_bytes(_u16(_pattern(seed=1)), photometric="minisblack")
    stack = _tiff_pages([_u16(_pattern(seed=s)) for s in range(3)], photometric="minisblack")
    add(Case("trunc.png", "broken"), png[: len(png) * 6 // 10])
    add(Case("trunc.jpg", "broken"), jpeg[: len(jpeg) * 6 // 10])
    add(Case("trunc.tif", "broken"), tiff16[: len(tiff16) * 6 // 10])
    add(Case("trunc-pages.tif", "broken"), _cut_between_pages(stack))
    add(Case("empty.png", "broken"), b"")
    add(Case("text.png", "broken"), b"this is not an image\n" * 4)

    # mislabelled: read by their bytes, written in the format the (same) output name says
    add(Case("png-bytes.jpg", "valid", gray=False, changes={"format": "jpeg"}), png)
    add(Case("jpeg-bytes.png", "valid", gray=False, changes={"format": "png"}), jpeg)

    # extreme shapes: networks need 2 pixels each way; degrade does not
    refused = {c: small for c in ("denoise", "deblur", "evaluate")}
    add(Case("tiny-1x1.png", "valid", refused=dict(refused)), _pillow_bytes(np.full((1, 1), 128, np.uint8), "PNG"))
    line = _u8(_pattern(1, 5000))
    add(Case("row-1x5000.png", "valid", refused=dict(refused)), _pillow_bytes(line, "PNG"))
    add(Case("col-5000x1.png", "valid", refused=dict(refused)), _pillow_bytes(line.reshape(5000, 1).copy(), "PNG"))

    # float: NaN / inf, and a high dynamic range
    nan = _pattern().astype(np.float32)
    nan[3, 4], nan[10, 20], nan[0, 0] = np.nan, np.inf, -np.inf
    why = "non-finite pixel value"
    add(Case("nan.tif", "valid", nan=True, refused={"denoise": why, "deblur": why, "degrade": why, "evaluate": why}),
        _tiff_bytes(nan, photometric="minisblack"))
    hdr = (_pattern(channels=3, seed=2) * 1000).astype(np.float32)
    add(Case("hdr.tif", "valid", gray=False, refused={"evaluate": "evaluate scores images in [0, 1]"}),
        _tiff_bytes(hdr, photometric="rgb"))

    # pages and frames
    single = "evaluate scores single images"  # a score of page 0 alone would misstate a stack
    add(Case("stack-gray16.tif", "valid", refused={"evaluate": single}), stack)
    rgb_stack = [_u16(_pattern(channels=3, seed=s)) for s in range(3)]
    add(Case("stack-rgb16.tif", "valid", gray=False, refused={"evaluate": single}),
        _tiff_pages(rgb_stack, photometric="rgb"))
    frames = [Image.fromarray(_u8(_pattern(channels=3, seed=s))) for s in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0)
    add(Case("anim.png", "valid", gray=False, refused={"evaluate": single}), buf.getvalue())

    # bit depth and modes
    add(Case("rgb16.png", "valid", gray=False), _png16(_u16(_pattern(channels=3, seed=3))))
    add(Case("rgb16.tif", "valid", gray=False), _tiff_bytes(_u16(_pattern(channels=3, seed=3)), photometric="rgb"))
    add(Case("i16.png", "valid"), _pillow_bytes(_u16(_pattern(seed=4)), "PNG"))
    la = np.stack([gray8, _u8(_pattern(seed=5))], axis=-1)
    add(Case("la.png", "valid"), _pillow_bytes(la, "PNG"))
    rgba = np.concatenate([rgb8, _u8(_pattern(seed=6))[..., None]], axis=-1)
    add(Case("rgba.png", "valid", gray=False), _pillow_bytes(rgba, "PNG"))
    pal = Image.fromarray(rgb8).quantize(16)
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    add(Case("palette.png", "valid", gray=False, changes={"palette": False}), buf.getvalue())
    buf = io.BytesIO()
    pal.save(buf, format="PNG", transparency=0)
    add(Case("palette-trns.png", "valid", gray=False, changes={"palette": False}), buf.getvalue())
    cmyk = np.concatenate([rgb8, _u8(_pattern(seed=7) * 0.3)[..., None]], axis=-1)
    add(Case("cmyk.jpg", "valid", gray=False, changes={"mode": "RGB", "channels": 3}),
        _pillow_bytes(cmyk, "JPEG", mode="CMYK", quality=90))

    # metadata: EXIF (make, model, orientation), ICC, DPI
    add(Case("exif.jpg", "valid", gray=False), _pillow_bytes(rgb8, "JPEG", quality=90, exif=exif, icc_profile=icc, dpi=(DPI, DPI)))
    add(Case("exif.png", "valid", gray=False), _pillow_bytes(rgb8, "PNG", exif=exif, icc_profile=icc, dpi=(DPI, DPI)))
    tags = [(271, "s", 0, MAKE, True), (272, "s", 0, MODEL, True), (274, "H", 1, ORIENTATION, True)]
    add(Case("exif.tif", "valid", gray=False),
        _tiff_bytes(rgb8, photometric="rgb", extratags=tags, iccprofile=icc, resolution=(DPI, DPI), resolutionunit="INCH"))

    # compressed TIFF
    add(Case("lzw.tif", "valid", gray=False), _tiff_bytes(rgb8, photometric="rgb", compression="lzw"))
    add(Case("deflate.tif", "valid"), _tiff_bytes(_u16(_pattern(seed=8)), photometric="minisblack", compression="zlib"))
    add(Case("jpeg.tif", "valid", gray=False), _tiff_bytes(rgb8, photometric="rgb", compression="jpeg"))

    # a name that is not ASCII
    add(Case("café-東京.png", "valid"), _pillow_bytes(gray8, "PNG"))

    for case, data in cases:
        (root / case.name).write_bytes(data)
    return [case for case, _ in cases]


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path: to prove inputs untouched."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------
# probing a file without restorekit


def probe(path: Path) -> dict:
    """What a file holds, by Pillow / tifffile / its bytes: format, dtype, channels, alpha,
    pages, palette, mode, EXIF make / model / orientation, ICC bytes and DPI."""
    data = path.read_bytes()
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _probe_tiff(path)
    from PIL import Image

    with Image.open(path) as im:
        fmt = (im.format or "").lower().replace("mpo", "jpeg")
        mode = im.mode
        exif = im.getexif()
        info = dict(im.info)
        frames = int(getattr(im, "n_frames", 1))
    dtype, channels, alpha = "uint8", {"L": 1, "LA": 1, "RGB": 3, "RGBA": 3, "P": 3, "CMYK": 4}.get(mode, 1), False
    if mode in ("LA", "RGBA") or (mode == "P" and "transparency" in info):
        alpha = True
    if mode.startswith("I;16") or mode == "I":
        dtype = "uint16"
    if fmt == "png" and data[24] == 16:  # IHDR bit depth: Pillow shows 16-bit RGB(A) as 8-bit modes
        dtype = "uint16"
    dpi = info.get("dpi")
    return {"format": fmt, "dtype": dtype, "channels": channels, "alpha": alpha, "pages": frames,
            "palette": mode == "P", "mode": "CMYK" if mode == "CMYK" else "RGB" if channels == 3 else "L",
            "make": exif.get(271), "model": exif.get(272), "orientation": exif.get(274),
            "icc": info.get("icc_profile") or None,
            "dpi": tuple(round(float(d), 1) for d in dpi) if dpi else None}


def _probe_tiff(path: Path) -> dict:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        extra = len(tuple(getattr(page, "extrasamples", ()) or ()))
        samples = page.samplesperpixel
        tags = {code: page.tags[code].value for code in (271, 272, 274, 282, 283, 296, 34675) if code in page.tags}
        pages = len(tif.pages)
        photometric = int(page.photometric)
    dpi = None
    if 282 in tags and int(tags.get(296, 2)) in (2, 3):
        factor = 2.54 if int(tags.get(296, 2)) == 3 else 1.0
        dpi = tuple(round(_rational(tags[c]) * factor, 1) for c in (282, 283))
    return {"format": "tiff", "dtype": str(page.dtype), "channels": samples - extra, "alpha": extra > 0,
            "pages": pages, "palette": photometric == 3, "mode": "RGB" if samples - extra == 3 else "L",
            "make": tags.get(271), "model": tags.get(272),
            "orientation": int(tags[274]) if 274 in tags else None,
            "icc": bytes(tags[34675]) if 34675 in tags else None, "dpi": dpi}


def _rational(value) -> float:
    return value[0] / value[1] if isinstance(value, tuple) else float(value)
