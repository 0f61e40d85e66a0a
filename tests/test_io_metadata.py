"""Metadata kept through read -> write: EXIF, ICC, resolution, TIFF tags, PNG text, orientation.

Each input is made here with Pillow or tifffile, the way a camera or another program would
write it, and each output is checked with those tools too, not only with restorekit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tifffile
from PIL import Image, features
from PIL.TiffImagePlugin import IFDRational

from restorekit.io import Metadata, from_float32, read_image, read_stack, write_image, write_stack

EXPOSURE, ISO, DATE_ORIGINAL = 0x829A, 0x8827, 0x9003


def _samples(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.int64).astype(np.uint8)


def _camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif[0x0112] = orientation
    exif[0x0131] = "Firmware 1.0"
    ifd = exif.get_ifd(0x8769)
    ifd[EXPOSURE] = IFDRational(1, 250)
    ifd[ISO] = 400
    ifd[DATE_ORIGINAL] = "2024:01:02 03:04:05"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.5)})
    return exif


def _srgb() -> bytes:
    if features.check("littlecms2"):
        from PIL import ImageCms

        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return b"\x00" * 16 + b"RGB " + b"\x00" * 108  # a header is all that is checked


def _exif_of(path) -> tuple[dict, dict, dict]:
    """(first IFD, Exif IFD, GPS IFD) as Pillow reads them from the file."""
    with Image.open(path) as im:
        exif = im.getexif()
        return dict(exif), dict(exif.get_ifd(0x8769)), dict(exif.get_ifd(0x8825))


def _check_camera(path) -> None:
    first, sub, gps = _exif_of(path)
    assert first[0x010F] == "Canon" and first[0x0110] == "EOS 5D"
    assert float(sub[EXPOSURE]) == pytest.approx(1 / 250) and sub[ISO] == 400
    assert sub[DATE_ORIGINAL] == "2024:01:02 03:04:05"
    assert gps[1] == "N" and [float(v) for v in gps[2]] == [52.0, 31.0, 12.5]


# --- JPEG -------------------------------------------------------------------------------


def test_jpeg_keeps_exif_icc_dpi_and_comment(tmp_path):
    icc = _srgb()
    Image.fromarray(_samples((16, 24, 3))).save(tmp_path / "in.jpg", exif=_camera_exif(), icc_profile=icc,
                                                 dpi=(300, 300), comment="shot at dawn", quality=95)
    image, info = read_image(tmp_path / "in.jpg")
    meta = info.metadata
    assert meta.tags["Make"] == "Canon" and meta.tags["Model"] == "EOS 5D" and meta.icc_profile == icc
    assert meta.resolution == (300.0, 300.0) and meta.resolution_unit == "inch" and meta.comment == "shot at dawn"
    out = write_image(tmp_path / "out.jpg", image, info)
    _check_camera(out)
    with Image.open(out) as im:
        assert im.info["icc_profile"] == icc and im.info["dpi"] == (300, 300)
        assert im.info["comment"] == b"shot at dawn"
        with Image.open(tmp_path / "in.jpg") as src:
            assert im.info["exif"] == src.info["exif"]  # unchanged: written back byte for byte


def test_jpeg_density_in_centimetres(tmp_path):
    Image.fromarray(_samples((8, 8))).save(tmp_path / "cm.jpg")
    data = bytearray((tmp_path / "cm.jpg").read_bytes())
    at = data.index(b"JFIF\x00") + 7  # JFIF: version (2), units (1), x density (2), y density (2)
    data[at:at + 5] = bytes([2, 0, 118, 0, 59])  # 118 x 59 pixels per cm
    (tmp_path / "cm.jpg").write_bytes(bytes(data))
    _, info = read_image(tmp_path / "cm.jpg")
    assert info.metadata.resolution == (118.0, 59.0) and info.metadata.resolution_unit == "cm"
    assert info.metadata.dpi == pytest.approx((118 * 2.54, 59 * 2.54))


def test_exif_orientation_pixels_as_stored_tag_kept(tmp_path):
    # One rule for every format: never rotate the pixels, keep the tag, so a viewer rotates once.
    a = _samples((20, 30, 3))
    Image.fromarray(a).save(tmp_path / "rot.png", exif=_camera_exif(orientation=6))
    Image.fromarray(a).save(tmp_path / "rot.jpg", exif=_camera_exif(orientation=6), quality=100)
    tifffile.imwrite(tmp_path / "rot.tif", a, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    for name in ("rot.png", "rot.jpg", "rot.tif"):
        image, info = read_image(tmp_path / name)
        assert image.shape == (20, 30, 3), name  # not turned to 30x20
        assert info.metadata.orientation == 6, name
        if name != "rot.jpg":
            np.testing.assert_array_equal(from_float32(image, np.uint8), a)
        out = write_image(tmp_path / f"out_{name}", image, info)
        if name == "rot.tif":  # (Pillow's TIFF reader swaps the size of a rotated TIFF)
            with tifffile.TiffFile(out) as tif:
                assert tif.pages[0].shape == (20, 30, 3) and int(tif.pages[0].tags["Orientation"].value) == 6
        else:
            with Image.open(out) as im:
                assert im.size == (30, 20) and im.getexif()[0x0112] == 6, name
        assert read_image(out)[1].metadata.orientation == 6


# --- PNG --------------------------------------------------------------------------------


def _png_text(path) -> dict:
    with Image.open(path) as im:
        im.load()
        return dict(im.text)


@pytest.mark.parametrize("kind", ["8-bit RGB", "16-bit gray", "16-bit RGB"])
def test_png_keeps_exif_icc_phys_and_text(tmp_path, kind):
    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    chunks.add_text("Title", "clean plate")
    chunks.add_text("Long", "z" * 3000, zip=True)
    chunks.add_itxt("Author", "Zoë Ångström ✓")
    shape, dtype = {"8-bit RGB": ((12, 14, 3), np.uint8), "16-bit gray": ((12, 14), np.uint16),
                    "16-bit RGB": ((12, 14, 3), np.uint16)}[kind]
    a = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, shape).astype(dtype)
    gray_icc = b"\x00" * 16 + b"GRAY" + b"\x00" * 108
    icc = gray_icc if len(shape) == 2 else _srgb()
    if kind == "16-bit RGB":  # Pillow cannot write it: restorekit's own encoder makes the input
        from restorekit.io import ImageInfo

        meta = Metadata(exif=_camera_exif().tobytes(), icc_profile=icc, resolution=(118.11, 118.11),
                        resolution_unit="cm", text={"Title": "clean plate", "Long": "z" * 3000,
                                                    "Author": "Zoë Ångström ✓"})
        write_image(tmp_path / "in.png", a.astype(np.float32) / 65535, ImageInfo(np.dtype(np.uint16), "png",
                                                                                  metadata=meta))
    else:
        Image.fromarray(a).save(tmp_path / "in.png", exif=_camera_exif(), icc_profile=icc, dpi=(300, 300),
                                pnginfo=chunks)
    image, info = read_image(tmp_path / "in.png")
    assert info.dtype == dtype and info.metadata.icc_profile == icc
    assert info.metadata.dpi == pytest.approx((300, 300), abs=1e-3)
    assert info.metadata.text == {"Title": "clean plate", "Long": "z" * 3000, "Author": "Zoë Ångström ✓"}
    out = write_image(tmp_path / "out.png", image, info)
    _check_camera(out)
    assert _png_text(out) == {"Title": "clean plate", "Long": "z" * 3000, "Author": "Zoë Ångström ✓"}
    with Image.open(out) as im:
        assert im.info["icc_profile"] == icc
        assert b"pHYs" + (11811).to_bytes(4, "big") * 2 + b"\x01" in out.read_bytes()  # 300 dpi, exact
    back, info2 = read_image(out)
    np.testing.assert_array_equal(from_float32(back, dtype), a)
    assert info2.metadata == info.metadata


# --- TIFF -------------------------------------------------------------------------------


def test_tiff_keeps_tags_resolution_icc_and_description(tmp_path):
    icc = _srgb()
    a = _samples((10, 12, 3))
    tifffile.imwrite(tmp_path / "in.tif", a, photometric="rgb", metadata=None, description="sample 7, stained",
                     resolution=(118.0, 59.0), resolutionunit="CENTIMETER", iccprofile=icc,
                     software="Acquire 2.1", datetime="2024:01:02 03:04:05",
                     extratags=[("Artist", "s", 0, "A. Person", True), ("Copyright", "s", 0, "(c) Lab", True),
                                ("Make", "s", 0, "Nikon", True), ("Model", "s", 0, "D850", True)])
    image, info = read_image(tmp_path / "in.tif")
    meta = info.metadata
    assert meta.tags == {"Make": "Nikon", "Model": "D850", "Software": "Acquire 2.1",
                         "DateTime": "2024:01:02 03:04:05", "Artist": "A. Person", "Copyright": "(c) Lab"}
    assert meta.description == "sample 7, stained" and meta.icc_profile == icc
    assert meta.resolution == (118.0, 59.0) and meta.resolution_unit == "cm"
    out = write_image(tmp_path / "out.tif", image, info)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0]
        names = {t.name: t.value for t in page.tags.values()}
        assert page.description == "sample 7, stained"
        for name, value in meta.tags.items():
            assert names[name] == value, name
        assert names["InterColorProfile"] == icc
        assert names["XResolution"] == (118, 1) and names["YResolution"] == (59, 1)
        assert int(names["ResolutionUnit"]) == 3
    assert read_image(out)[1].metadata == meta


def test_tiff_exif_ifd_written_by_pillow_survives(tmp_path, caplog):
    Image.fromarray(_samples((10, 12, 3))).save(tmp_path / "in.tif", exif=_camera_exif(orientation=3).tobytes())
    _check_camera(tmp_path / "in.tif")
    image, info = read_image(tmp_path / "in.tif")
    assert info.metadata.orientation == 3 and info.metadata.tags["Make"] == "Canon"
    out = write_image(tmp_path / "out.tif", image, info)
    _check_camera(out)
    with tifffile.TiffFile(out) as tif:  # tifffile too sees a valid EXIF IFD
        assert tif.pages[0].tags["ExifTag"].value["ISOSpeedRatings"] == 400
        assert tif.pages[0].tags["GPSTag"].value["GPSLatitudeRef"] == "N"
        assert int(tif.pages[0].tags["Orientation"].value) == 3
    assert not [r for r in caplog.records if r.name == "tifffile"]  # and nothing to complain about


def test_metadata_crosses_formats(tmp_path):
    """JPEG (camera) -> TIFF -> PNG -> JPEG: EXIF, ICC and resolution all the way."""
    icc = _srgb()
    Image.fromarray(_samples((16, 16, 3))).save(tmp_path / "cam.jpg", exif=_camera_exif(orientation=8),
                                                 icc_profile=icc, dpi=(240, 240))
    path = tmp_path / "cam.jpg"
    for name in ("a.tif", "b.png", "c.jpg"):
        image, info = read_image(path)
        path = write_image(tmp_path / name, image, info)
        _check_camera(path)
        meta = read_image(path)[1].metadata
        assert meta.orientation == 8 and meta.icc_profile == icc, name
        assert meta.dpi == pytest.approx((240, 240), abs=0.01), name  # PNG: whole pixels per metre


def test_edited_tags_win_over_the_exif_copy(tmp_path):
    Image.fromarray(_samples((8, 8, 3))).save(tmp_path / "in.jpg", exif=_camera_exif())
    image, info = read_image(tmp_path / "in.jpg")
    tags = {**info.metadata.tags, "Software": "restorekit"}
    info = dataclasses.replace(info, metadata=dataclasses.replace(info.metadata, tags=tags))
    out = write_image(tmp_path / "out.jpg", image, info)
    first, sub, _ = _exif_of(out)
    assert first[0x0131] == "restorekit" and first[0x010F] == "Canon" and sub[ISO] == 400


def test_icc_profile_of_another_colour_space_is_dropped(tmp_path):
    cmyk_icc = b"\x00" * 16 + b"CMYK" + b"\x00" * 108
    Image.fromarray(_samples((8, 8, 3))).convert("CMYK").save(tmp_path / "cmyk.jpg", icc_profile=cmyk_icc)
    image, info = read_image(tmp_path / "cmyk.jpg")
    assert image.shape == (8, 8, 3) and info.metadata.icc_profile is None  # the pixels are RGB now


def test_stack_metadata_written_once(tmp_path):
    a = _samples((3, 6, 5))
    tifffile.imwrite(tmp_path / "s.tif", a, photometric="minisblack", software="Scope 9",
                     resolution=(10.0, 10.0), resolutionunit="CENTIMETER")
    pages, info = read_stack(tmp_path / "s.tif")
    out = write_stack(tmp_path / "o.tif", pages, info)
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].tags["Software"].value == "Scope 9"
        assert all(p.tags["XResolution"].value == (10, 1) for p in tif.pages)
        assert tif.series[0].shape == (3, 6, 5)  # the shaped description still matches


@pytest.mark.skipif(not features.check("webp"), reason="Pillow without WebP")
def test_webp_keeps_exif_and_icc(tmp_path):
    icc = _srgb()
    a = _samples((10, 12, 3))
    Image.fromarray(a).save(tmp_path / "in.webp", exif=_camera_exif(), icc_profile=icc, lossless=True)
    image, info = read_image(tmp_path / "in.webp")
    assert info.metadata.icc_profile == icc and info.layout.compression == "lossless"
    out = write_image(tmp_path / "out.webp", image, info)
    _check_camera(out)
    back, info2 = read_image(out)
    assert info2.metadata.icc_profile == icc
    np.testing.assert_array_equal(from_float32(back, np.uint8), a)
