"""Image I/O: round trips keep dtype, range, channels and alpha; bad files give one clear line.

Also: test_io_formats.py (compression, WebP, warnings, refusals, awkward files),
test_io_stacks.py (pages, frames), test_io_metadata.py (EXIF, ICC, resolution, text).
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorekit.errors import DataLossWarning, ImageReadError, RestorekitError
from restorekit.io import ImageInfo, from_float32, list_images, read_image, to_float32, write_image


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _samples(shape, dtype, seed=0) -> np.ndarray:
    info = np.iinfo(dtype)
    return _rng(seed).integers(0, int(info.max) + 1, size=shape, dtype=np.int64).astype(dtype)


# --- dtype conversion -------------------------------------------------------------------


def test_from_float32_rounds_half_up_and_clips():
    x = np.array([-0.2, 0.0, 0.5 / 255, 0.49 / 255, 127.5 / 255, 1.0, 1.7, np.nan], np.float32)
    assert from_float32(x, np.uint8).tolist() == [0, 0, 1, 0, 128, 255, 255, 0]
    y = _rng().random(1000).astype(np.float32) * 1.2 - 0.1
    expected = (np.clip(y.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(from_float32(y, np.uint8), expected)
    assert from_float32(np.float32([0.5]), np.uint16)[0] == 32768


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_float_integer_is_exact(dtype):
    a = _samples((64, 64), dtype)
    x = to_float32(a)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(from_float32(x, dtype), a)


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_gray_8bit_stays_gray_and_exact(tmp_path, suffix):
    a = _samples((37, 31), np.uint8)
    path = write_image(tmp_path / f"g{suffix}", a)
    image, info = read_image(path)
    assert image.shape == (37, 31) and image.dtype == np.float32
    assert info.dtype == np.uint8 and info.alpha is None
    np.testing.assert_array_equal(from_float32(image, np.uint8), a)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_rgb_8bit_exact(tmp_path, suffix):
    a = _samples((37, 31, 3), np.uint8)
    image, info = read_image(write_image(tmp_path / f"c{suffix}", a))
    assert image.shape == (37, 31, 3) and info.dtype == np.uint8
    np.testing.assert_array_equal(from_float32(image, np.uint8), a)


def test_16bit_gray_png_stays_16bit(tmp_path):
    a = _samples((37, 31), np.uint16)
    Image.fromarray(a).save(tmp_path / "g16.png")  # a 16-bit PNG made by another tool
    image, info = read_image(tmp_path / "g16.png")
    assert info.dtype == np.uint16 and info.format == "png" and image.shape == (37, 31)
    np.testing.assert_array_equal(from_float32(image, np.uint16), a)
    out = write_image(tmp_path / "out.png", image, info)
    with Image.open(out) as im:
        assert im.mode.startswith("I;16")
        np.testing.assert_array_equal(np.asarray(im), a)


@pytest.mark.parametrize("channels", [2, 3, 4])  # gray+alpha, RGB, RGBA
def test_16bit_colour_png_round_trip(tmp_path, channels):
    a = _samples((37, 31, channels), np.uint16)
    alpha = a[..., -1] if channels in (2, 4) else None
    color = a[..., :-1] if alpha is not None else a
    color = color[..., 0] if color.shape[-1] == 1 else color
    info = ImageInfo(dtype=np.dtype(np.uint16), format="png", alpha=alpha)
    path = write_image(tmp_path / "c16.png", to_float32(color), info)
    image, back = read_image(path)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(from_float32(image, np.uint16), color)
    if alpha is not None:
        assert back.alpha.dtype == np.uint16
        np.testing.assert_array_equal(back.alpha, alpha)
    else:
        assert back.alpha is None
    # The file is a valid PNG for other readers too: Pillow sees the high bytes.
    if channels == 3:
        with Image.open(path) as im:
            np.testing.assert_array_equal(np.asarray(im), (color >> 8).astype(np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(37, 31), (37, 31, 3)])
def test_tiff_keeps_depth_and_channels(tmp_path, dtype, shape):
    import tifffile

    a = _samples(shape, dtype)
    tifffile.imwrite(tmp_path / "in.tif", a, photometric="rgb" if len(shape) == 3 else "minisblack")
    image, info = read_image(tmp_path / "in.tif")
    assert info.dtype == dtype and info.format == "tiff" and image.shape == shape
    out = write_image(tmp_path / "out.tiff", image, info)
    back = tifffile.imread(out)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, a)


def test_float32_tiff_round_trip_and_planar(tmp_path):
    import tifffile

    x = _rng().random((37, 31, 3)).astype(np.float32)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(x, -1, 0), photometric="rgb", planarconfig="separate")
    image, info = read_image(tmp_path / "planar.tif")
    assert info.dtype == np.float32 and image.shape == (37, 31, 3)
    np.testing.assert_array_equal(image, x)
    image2, info2 = read_image(write_image(tmp_path / "f.tif", image, info))
    assert info2.dtype == np.float32
    np.testing.assert_array_equal(image2, x)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_rgba_keeps_alpha_bit_exact(tmp_path, suffix):
    a = _samples((37, 31, 4), np.uint8)
    Image.fromarray(a, "RGBA").save(tmp_path / "in.png")
    image, info = read_image(tmp_path / "in.png")
    assert image.shape == (37, 31, 3)
    np.testing.assert_array_equal(info.alpha, a[..., 3])
    out = write_image(tmp_path / f"out{suffix}", image * 0.5, info)  # alter the colour, not the alpha
    image2, info2 = read_image(out)
    np.testing.assert_array_equal(info2.alpha, a[..., 3])
    np.testing.assert_array_equal(from_float32(image2, np.uint8), from_float32(image * 0.5, np.uint8))


def test_gray_alpha_png(tmp_path):
    a = _samples((37, 31, 2), np.uint8)
    Image.fromarray(a, "LA").save(tmp_path / "la.png")
    image, info = read_image(tmp_path / "la.png")
    assert image.shape == (37, 31)
    np.testing.assert_array_equal(info.alpha, a[..., 1])
    image2, info2 = read_image(write_image(tmp_path / "out.png", image, info))
    assert image2.shape == (37, 31)
    np.testing.assert_array_equal(info2.alpha, a[..., 1])


def test_jpeg_reads_and_writes(tmp_path, color_image):
    a = from_float32(color_image, np.uint8)
    Image.fromarray(a).save(tmp_path / "in.jpg", quality=95)
    image, info = read_image(tmp_path / "in.jpg")
    assert info.format == "jpeg" and info.dtype == np.uint8 and image.shape == (37, 31, 3)
    assert np.abs(image - color_image).mean() < 0.02  # lossy, but close
    # 16-bit info into a JPEG falls back to 8 bits; an explicit 16-bit request is an error.
    with pytest.warns(DataLossWarning, match="JPEG cannot hold uint16 samples; writing uint8"):
        out = write_image(tmp_path / "o.jpg", image, ImageInfo(np.dtype(np.uint16), "png", None))
    assert read_image(out)[1].dtype == np.uint8
    with pytest.raises(RestorekitError, match="JPEG cannot hold uint16"):
        write_image(tmp_path / "o2.jpg", image, dtype=np.uint16)


def test_cmyk_jpeg_and_palette_png_become_rgb(tmp_path):
    a = _samples((20, 30, 3), np.uint8)
    Image.fromarray(a).convert("CMYK").save(tmp_path / "cmyk.jpg")
    image, _ = read_image(tmp_path / "cmyk.jpg")
    assert image.shape == (20, 30, 3)
    Image.fromarray(a).convert("P").save(tmp_path / "p.png")
    image, info = read_image(tmp_path / "p.png")
    assert image.shape == (20, 30, 3) and info.alpha is None
    pal = Image.fromarray(a).convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "pt.png", transparency=0)
    image, info = read_image(tmp_path / "pt.png")
    assert image.shape == (20, 30, 3) and info.alpha is not None and info.alpha.shape == (20, 30)


def test_float_info_into_png_becomes_16bit(tmp_path):
    x = _rng().random((8, 9)).astype(np.float32)
    with pytest.warns(DataLossWarning, match=r"PNG cannot hold float32 samples; writing uint16 \(values outside"):
        out = write_image(tmp_path / "f.png", x, ImageInfo(np.dtype(np.float32), "tiff", None))
    assert read_image(out)[1].dtype == np.uint16


def test_write_is_atomic_and_validates(tmp_path):
    with pytest.raises(RestorekitError, match="cannot tell the image format from the suffix"):
        write_image(tmp_path / "x.xyz", np.zeros((4, 4), np.float32))
    with pytest.raises(RestorekitError, match="unsupported output format .heic"):
        write_image(tmp_path / "x.heic", np.zeros((4, 4), np.float32))
    with pytest.raises(RestorekitError, match="shape"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 2), np.float32))
    alpha = np.zeros((5, 5), np.uint8)
    with pytest.raises(RestorekitError, match="alpha"):
        write_image(tmp_path / "x.png", np.zeros((4, 4), np.float32), ImageInfo(np.dtype(np.uint8), "png", alpha))
    write_image(tmp_path / "sub" / "ok.png", np.zeros((4, 4), np.float32))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ok.png", "sub"]  # no temp files left


# --- bad files --------------------------------------------------------------------------


def _one_line_naming(exc_info, path) -> None:
    message = str(exc_info.value)
    assert "\n" not in message and str(path) in message


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError) as exc:
        read_image(tmp_path / "nope.png")
    _one_line_naming(exc, tmp_path / "nope.png")


def test_text_file_renamed_png(tmp_path):
    path = tmp_path / "fake.png"
    path.write_text("this is not an image\nsecond line\n")
    with pytest.raises(ImageReadError) as exc:
        read_image(path)
    _one_line_naming(exc, path)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_file(tmp_path, suffix, color_image):
    full = write_image(tmp_path / f"full{suffix}", color_image)
    data = full.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as exc:
        read_image(cut)
    _one_line_naming(exc, cut)


def test_empty_and_directory_and_unsupported(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(tmp_path / "empty.png")
    with pytest.raises(ImageReadError, match="not a file"):
        read_image(tmp_path)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "x.ppm")
    with pytest.raises(ImageReadError, match="unsupported format PPM"):
        read_image(tmp_path / "x.ppm")


def test_two_channel_tiff_without_alpha(tmp_path):
    import tifffile

    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.zeros((8, 8, 2), np.uint8), photometric="minisblack", planarconfig="contig")
    with pytest.raises(ImageReadError, match="without an alpha"):
        read_image(path)


# --- listing ----------------------------------------------------------------------------


def test_list_images(tmp_path):
    for name in ["b.png", "a.JPG", "c.tif", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.png").write_bytes(b"x")
    assert [p.name for p in list_images([tmp_path])] == ["a.JPG", "b.png", "c.tif"]
    assert [p.name for p in list_images([str(tmp_path / "*.png"), tmp_path / "b.png"])] == ["b.png"]
    assert [p.name for p in list_images([tmp_path / "notes.txt"])] == ["notes.txt"]  # named: kept
    with pytest.raises(RestorekitError, match="no such file"):
        list_images([tmp_path / "missing.png"])
    with pytest.raises(RestorekitError, match="no images match"):
        list_images([str(tmp_path / "*.bmp")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(RestorekitError, match="no images in this folder"):
        list_images([tmp_path / "empty"])


def test_palette_and_bilevel_tiff(tmp_path):
    a = _samples((20, 30, 3), np.uint8)
    Image.fromarray(a).convert("P").save(tmp_path / "pal.tif")
    image, info = read_image(tmp_path / "pal.tif")
    assert image.shape == (20, 30, 3) and info.dtype == np.uint8
    with Image.open(tmp_path / "pal.tif") as im:
        np.testing.assert_array_equal(from_float32(image, np.uint8), np.asarray(im.convert("RGB")))
    Image.fromarray(a[..., 0] > 128).save(tmp_path / "bi.tif")
    image, info = read_image(tmp_path / "bi.tif")
    np.testing.assert_array_equal(image, (a[..., 0] > 128).astype(np.float32))


# --- range and sample types -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_tiffs_keep_their_range_and_type(tmp_path, dtype):
    x = np.random.default_rng(0).normal(0.5, 2.0, (9, 8)).astype(dtype)  # well outside [0, 1]
    x[0, 0], x[0, 1] = -1000, np.nan
    tifffile.imwrite(tmp_path / "f.tif", x, photometric="minisblack")
    image, info = read_image(tmp_path / "f.tif")
    assert image.dtype == np.float32 and info.dtype == dtype
    np.testing.assert_array_equal(image, x.astype(np.float32))  # not clipped, NaN kept
    finite = x[np.isfinite(x)].astype(np.float32)
    assert info.value_range == (float(finite.min()), float(finite.max()))
    back = tifffile.imread(write_image(tmp_path / "o.tif", image * 2, info))
    assert back.dtype == dtype  # float written as float, never clipped
    np.testing.assert_array_equal(back, (x.astype(np.float32) * 2).astype(dtype))


@pytest.mark.parametrize("dtype", [np.int16, np.uint32])
def test_other_integer_tiffs_keep_type_in_their_own_units(tmp_path, dtype):
    info_ = np.iinfo(dtype)
    top = 2**24 - 3 if dtype == np.uint32 else info_.max  # float32 holds integers exactly up to 2**24
    a = np.array([[info_.min, -5 if info_.min < 0 else 5, 0], [1000, 12345, top]], dtype)
    tifffile.imwrite(tmp_path / "i.tif", a, photometric="minisblack")
    image, info = read_image(tmp_path / "i.tif")
    assert info.dtype == dtype and info.value_range == (float(a.min()), float(a.max()))
    np.testing.assert_array_equal(image, a.astype(np.float32))  # not scaled
    back = tifffile.imread(write_image(tmp_path / "o.tif", image + 0.6, info))  # rounded half up
    assert back.dtype == dtype
    expected = np.clip(np.floor(a.astype(np.float64) + 1.1), info_.min, info_.max).astype(dtype)
    np.testing.assert_array_equal(back, expected)


def test_value_range_of_integer_files_is_in_file_units(tmp_path):
    a = np.array([[3, 7], [250, 9]], np.uint8)
    _, info = read_image(write_image(tmp_path / "r.png", a))
    assert info.value_range == (3.0, 250.0)
