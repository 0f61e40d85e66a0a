"""Formats: compressed TIFF, WebP, CMYK / MINISWHITE, data-loss warnings, refused output names,
and awkward files (mislabelled, non-ASCII names, 1x1 and 1x5000 images, cut stacks).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image, features

from restorekit.errors import DataLossWarning, ImageReadError, RestorekitError
from restorekit.io import ImageInfo, from_float32, read_image, read_stack, write_image


def _one_line_naming(exc_info, path) -> None:
    message = str(exc_info.value)
    assert "\n" not in message and str(path) in message


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("compression, code", [("lzw", 5), ("zlib", 8), ("packbits", 32773), ("jpeg", 7)])
@pytest.mark.parametrize("shape", [(30, 26), (30, 26, 3)])
def test_compressed_tiffs_read_and_keep_compression(tmp_path, compression, code, shape):
    ramp = np.add.outer(np.arange(30) * 4, np.arange(26) * 5).astype(np.uint8)  # smooth: JPEG stays close
    a = ramp if len(shape) == 2 else np.stack([ramp, ramp[::-1], 255 - ramp], axis=-1)
    tifffile.imwrite(tmp_path / "c.tif", a, compression=compression, photometric="rgb" if len(shape) == 3 else None)
    image, info = read_image(tmp_path / "c.tif")
    assert info.layout.compression == compression and image.shape == shape
    out = write_image(tmp_path / "o.tif", image, info)
    with tifffile.TiffFile(out) as tif:
        assert int(tif.pages[0].compression) == code
        back = tif.pages[0].asarray()
    if compression == "jpeg":
        assert np.abs(back.astype(int) - a).mean() < 3
    else:
        np.testing.assert_array_equal(back, a)


def test_planar_16bit_lzw_with_predictor(tmp_path):
    a = np.random.default_rng(0).integers(0, 65536, (3, 20, 18)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "p.tif", a, photometric="rgb", planarconfig="separate", compression="lzw",
                     predictor=True)
    image, info = read_image(tmp_path / "p.tif")
    assert info.layout.planar and info.layout.predictor == 2
    with tifffile.TiffFile(write_image(tmp_path / "o.tif", image, info)) as tif:
        page = tif.pages[0]
        assert int(page.planarconfig) == 2 and int(page.predictor) == 2 and int(page.compression) == 5
        np.testing.assert_array_equal(page.asarray(), a)


def test_cmyk_and_miniswhite_tiffs(tmp_path):
    cmyk = np.random.default_rng(0).integers(0, 256, (6, 7, 4)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "cmyk.tif", cmyk, photometric="separated")
    image, _ = read_image(tmp_path / "cmyk.tif")
    with Image.open(tmp_path / "cmyk.tif") as im:  # the same naive conversion as Pillow's
        assert np.abs(from_float32(image, np.uint8).astype(int) - np.asarray(im.convert("RGB"))).max() <= 1
    a = np.random.default_rng(0).integers(0, 256, (6, 7)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "w.tif", a, photometric="miniswhite")
    image, info = read_image(tmp_path / "w.tif")
    np.testing.assert_array_equal(from_float32(image, np.uint8), 255 - a)  # 0 is black inside restorekit
    with tifffile.TiffFile(write_image(tmp_path / "o.tif", image, info)) as tif:
        assert int(tif.pages[0].photometric) == 0
        np.testing.assert_array_equal(tif.pages[0].asarray(), a)  # stored as it came


@pytest.mark.skipif(not features.check("webp"), reason="Pillow without WebP")
def test_webp_lossless_with_alpha_and_lossy(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (13, 11, 4)).astype(np.uint8)
    a[..., 3] = np.maximum(a[..., 3], 1)  # lossless WebP may change the colour under alpha 0
    Image.fromarray(a, "RGBA").save(tmp_path / "a.webp", lossless=True)
    image, info = read_image(tmp_path / "a.webp")
    assert info.format == "webp" and info.layout.compression == "lossless"
    back, info2 = read_image(write_image(tmp_path / "b.webp", image, info))
    np.testing.assert_array_equal(from_float32(back, np.uint8), a[..., :3])
    np.testing.assert_array_equal(info2.alpha, a[..., 3])
    smooth = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (24, 1))[..., None].repeat(3, axis=2)
    out = write_image(tmp_path / "lossy.webp", smooth, ImageInfo(np.dtype(np.uint8), "jpeg"))  # from a JPEG: lossy
    image, info = read_image(out)
    assert info.layout.compression == "lossy" and np.abs(image - smooth).mean() < 0.02


def test_data_loss_warnings_say_what_is_lost(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (8, 9, 4)).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image, info = read_image(tmp_path / "a.png")
    with pytest.warns(DataLossWarning, match="JPEG has no alpha channel") as record:
        write_image(tmp_path / "a.jpg", image, info)
    assert len(record) == 1 and "\n" not in str(record[0].message) and "a.jpg" in str(record[0].message)
    assert read_image(tmp_path / "a.jpg")[0].shape == (8, 9, 3)
    with pytest.warns(DataLossWarning, match="BMP cannot hold uint16"):
        write_image(tmp_path / "b.bmp", image, ImageInfo(np.dtype(np.uint16), "png"))
    with pytest.warns(DataLossWarning, match="JPEG cannot hold float64"):
        write_image(tmp_path / "c.jpg", image, ImageInfo(np.dtype(np.float64), "tiff"))
    with warnings.catch_warnings():  # nothing is lost: nothing is said
        warnings.simplefilter("error")
        write_image(tmp_path / "d.jpg", image, ImageInfo(np.dtype(np.uint8), "png"))
        write_image(tmp_path / "e.png", image, info)
        write_image(tmp_path / "f.tif", image, ImageInfo(np.dtype(np.float32), "tiff", info.alpha))


def test_output_paths_with_image_suffixes_we_cannot_write_are_refused(tmp_path):
    from restorekit.outputs import plan_outputs

    src = write_image(tmp_path / "in.png", np.zeros((4, 4), np.float32))
    for name in ("out.heic", "out.exr", "out.jp2"):
        with pytest.raises(RestorekitError, match="unsupported output format") as exc:
            plan_outputs([src], tmp_path / name)
        assert "\n" not in str(exc.value) and f"-o {tmp_path / name}" in str(exc.value)
        assert not (tmp_path / name).exists()
    assert plan_outputs([src], tmp_path / "out.gif")[0].target == tmp_path / "out.gif"
    assert plan_outputs([src], tmp_path / "results.v2")[0].target == tmp_path / "results.v2" / "in.png"


# --- awkward files ----------------------------------------------------------------------


def test_png_bytes_named_jpg_read_as_png(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (5, 6, 3)).astype(np.uint8)
    Image.fromarray(a).save(tmp_path / "photo.jpg", format="PNG")
    image, info = read_image(tmp_path / "photo.jpg")
    assert info.format == "png"
    np.testing.assert_array_equal(from_float32(image, np.uint8), a)  # lossless: it is a PNG


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_non_ascii_file_names(tmp_path, suffix):
    path = write_image(tmp_path / "日本 café ü" / f"naïve – 写真{suffix}", np.full((4, 5), 0.5, np.float32))
    image, _ = read_image(path)
    assert image.shape == (4, 5)
    (tmp_path / f"émpty{suffix}").write_bytes(b"")
    with pytest.raises(ImageReadError, match="émpty"):
        read_image(tmp_path / f"émpty{suffix}")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".bmp", ".gif"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (1, 1, 3)])
def test_tiny_and_thin_images(tmp_path, suffix, shape):
    a = np.random.default_rng(0).integers(0, 2, shape).astype(np.uint8) * 255
    if len(shape) == 3:  # plainly colour, so that no reader may take it for gray
        a[..., 0], a[..., 1] = 255, 0
    path = write_image(tmp_path / f"t{suffix}", a)
    image, _ = read_image(path)
    assert image.shape == shape
    if suffix != ".jpg":
        np.testing.assert_array_equal(from_float32(image, np.uint8), a)


def test_zero_byte_and_truncated_tiff_stack(tmp_path):
    (tmp_path / "z.tif").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty file"):
        read_image(tmp_path / "z.tif")
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((3, 40, 40), np.uint8), photometric="minisblack")
    data = (tmp_path / "s.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[:200])
    with pytest.raises(ImageReadError) as exc:
        read_stack(tmp_path / "cut.tif")
    _one_line_naming(exc, tmp_path / "cut.tif")


def test_webp_without_pillow_support_is_one_clear_line(tmp_path, monkeypatch):
    import restorekit.io.formats as formats
    from restorekit.outputs import plan_outputs

    monkeypatch.setattr(formats, "webp_available", lambda: False)
    with pytest.raises(RestorekitError, match=r"unsupported output format \.webp \(this Pillow was built without WebP\)"):
        write_image(tmp_path / "x.webp", np.zeros((4, 4), np.float32))
    src = write_image(tmp_path / "in.png", np.zeros((4, 4), np.float32))
    with pytest.raises(RestorekitError, match="-o .*out.webp: unsupported output format"):
        plan_outputs([src], tmp_path / "out.webp")
