"""Multi-page files: TIFF stacks (plain, ImageJ, OME), animated PNG / GIF / WebP.

Every file is made here by tifffile or Pillow, read with read_stack, written with
write_stack, and checked with the same tools: page count, shapes, dtype, pixels, layout.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorekit.errors import DataLossWarning, RestorekitError
from restorekit.io import from_float32, read_image, read_stack, write_image, write_stack


def _samples(shape, dtype, seed=0) -> np.ndarray:
    top = int(np.iinfo(dtype).max)
    return np.random.default_rng(seed).integers(0, top + 1, size=shape, dtype=np.int64).astype(dtype)


@contextlib.contextmanager
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- TIFF -------------------------------------------------------------------------------


def test_plain_multipage_tiff_round_trip(tmp_path):
    a = _samples((4, 13, 11), np.uint16)
    with tifffile.TiffWriter(tmp_path / "in.tif") as tw:
        for i, page in enumerate(a):
            tw.write(page, metadata=None, description=f"page {i}", compression="lzw")
    pages, info = read_stack(tmp_path / "in.tif")
    assert len(pages) == info.pages == 4 and info.dtype == np.uint16
    assert [p.description for p in info.page_info] == ["page 0", "page 1", "page 2", "page 3"]
    assert info.layout.compression == "lzw"
    out = write_stack(tmp_path / "out.tif", pages, info)
    with tifffile.TiffFile(out) as tif:
        assert len(tif.pages) == 4
        assert [p.description for p in tif.pages] == ["page 0", "page 1", "page 2", "page 3"]
        assert all(int(p.compression) == 5 for p in tif.pages)  # LZW kept
        np.testing.assert_array_equal(np.stack([p.asarray() for p in tif.pages]), a)


def test_read_image_of_a_stack_is_page_zero_and_counts_pages(tmp_path):
    a = _samples((3, 9, 7), np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", a, photometric="minisblack")
    image, info = read_image(tmp_path / "s.tif")
    assert info.pages == 3 and len(info.page_info) == 1
    np.testing.assert_array_equal(from_float32(image, np.uint8), a[0])
    # one page written from a stack's info: a plain single page, no stale stack description
    out = write_image(tmp_path / "one.tif", image, info)
    with tifffile.TiffFile(out) as tif:
        assert len(tif.pages) == 1 and tif.series[0].shape == (9, 7)


def test_single_page_file_is_a_stack_of_one(tmp_path, color_image):
    path = write_image(tmp_path / "c.png", color_image)
    pages, info = read_stack(path)
    assert len(pages) == 1 and info.pages == 1 and pages[0].shape == (37, 31, 3)


def test_imagej_gray_hyperstack_keeps_axes_and_metadata(tmp_path):
    a = _samples((2, 3, 12, 10), np.uint16)  # Z, C, Y, X
    tifffile.imwrite(tmp_path / "ij.tif", a, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "ZCYX", "spacing": 0.5, "unit": "um", "Labels": list("abcdef")})
    pages, info = read_stack(tmp_path / "ij.tif")
    assert len(pages) == 6 and info.layout.stack == "imagej" and info.layout.axes == "ZCYX"
    out = write_stack(tmp_path / "out.tif", [p * 0.5 for p in pages], info)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_imagej and tif.series[0].axes == "ZCYX" and tif.series[0].shape == a.shape
        meta = tif.imagej_metadata
        assert meta["spacing"] == 0.5 and meta["unit"] == "um" and meta["Labels"] == list("abcdef")
        np.testing.assert_array_equal(tif.series[0].asarray(), from_float32(to_unit(a) * 0.5, np.uint16))
        assert tif.pages[0].resolution == (2.0, 2.0)


def to_unit(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max)


def test_imagej_rgb_stack(tmp_path):
    a = _samples((3, 8, 9, 3), np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", a, imagej=True, metadata={"axes": "ZYXS"})
    pages, info = read_stack(tmp_path / "rgb.tif")
    assert len(pages) == 3 and pages[0].shape == (8, 9, 3)
    out = write_stack(tmp_path / "out.tif", pages, info)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_imagej and tif.series[0].shape == a.shape
        np.testing.assert_array_equal(tif.series[0].asarray(), a)


def test_ome_stack_keeps_its_xml(tmp_path):
    a = _samples((3, 2, 10, 12), np.uint16)
    tifffile.imwrite(tmp_path / "in.ome.tif", a, ome=True, compression="zlib",
                     metadata={"axes": "ZCYX", "PhysicalSizeX": 0.25})
    pages, info = read_stack(tmp_path / "in.ome.tif")
    assert len(pages) == 6 and info.layout.stack == "ome"
    out = write_stack(tmp_path / "out.ome.tif", pages, info)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome and tif.series[0].axes == "ZCYX"
        assert 'PhysicalSizeX="0.25"' in tif.pages[0].description
        np.testing.assert_array_equal(tif.series[0].asarray(), a)


def test_ome_xml_that_names_its_file_names_the_new_one(tmp_path):
    import re

    a = _samples((4, 6, 5), np.uint16)
    tifffile.imwrite(tmp_path / "gen.ome.tif", a, ome=True, metadata={"axes": "ZYX"})
    with tifffile.TiffFile(tmp_path / "gen.ome.tif") as tif:
        xml = tif.pages[0].description
    uuid = re.search(r'UUID="(urn:uuid:[^"]+)"', xml).group(1)
    # as Bio-Formats writes it: each TiffData names the file that holds its planes
    xml = re.sub(r"<TiffData [^>]*/>", f'<TiffData IFD="0" PlaneCount="4"><UUID FileName="in.ome.tif">{uuid}</UUID>'
                 "</TiffData>", xml)
    with tifffile.TiffWriter(tmp_path / "in.ome.tif") as tw:
        for i, page in enumerate(a):
            tw.write(page, metadata=None, description=xml.encode() if i == 0 else None, photometric="minisblack")
    pages, info = read_stack(tmp_path / "in.ome.tif")
    out = write_stack(tmp_path / "sub" / "out.ome.tif", pages, info)  # not beside the input
    with tifffile.TiffFile(out) as tif:
        assert 'FileName="out.ome.tif"' in tif.pages[0].description
        np.testing.assert_array_equal(tif.series[0].asarray(), a)


def test_float_zstack_keeps_range_and_rgba_pages_keep_their_alpha(tmp_path):
    z = np.random.default_rng(1).normal(100.0, 50.0, (3, 8, 6)).astype(np.float32)  # far outside [0, 1]
    tifffile.imwrite(tmp_path / "z.tif", z, photometric="minisblack")
    pages, info = read_stack(tmp_path / "z.tif")
    assert info.dtype == np.float32 and info.value_range == (float(z.min()), float(z.max()))
    np.testing.assert_array_equal(tifffile.imread(write_stack(tmp_path / "zo.tif", pages, info)), z)

    rgba = _samples((2, 5, 4, 4), np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    pages, info = read_stack(tmp_path / "a.tif")
    assert [p.alpha is not None for p in info.page_info] == [True, True]
    np.testing.assert_array_equal(info.page_info[1].alpha, rgba[1, ..., 3])
    back, info2 = read_stack(write_stack(tmp_path / "ao.tif", pages, info))
    for i in range(2):
        np.testing.assert_array_equal(info2.page_info[i].alpha, rgba[i, ..., 3])
        np.testing.assert_array_equal(from_float32(back[i], np.uint8), rgba[i, ..., :3])


def test_pages_of_different_shapes(tmp_path):
    big, thumb = _samples((20, 30, 3), np.uint8), _samples((5, 8, 3), np.uint8, seed=1)
    with tifffile.TiffWriter(tmp_path / "t.tif") as tw:
        tw.write(big, photometric="rgb")
        tw.write(thumb, photometric="rgb", subfiletype=1)
    pages, info = read_stack(tmp_path / "t.tif")
    assert [p.shape for p in pages] == [(20, 30, 3), (5, 8, 3)]
    out = write_stack(tmp_path / "o.tif", pages, info)
    with tifffile.TiffFile(out) as tif:
        np.testing.assert_array_equal(tif.pages[1].asarray(), thumb)


def test_stack_into_a_single_image_format_is_refused(tmp_path):
    pages = [np.zeros((4, 4), np.float32)] * 3
    for name in ("x.jpg", "x.bmp"):
        with pytest.raises(RestorekitError, match="holds one image, got 3 pages") as exc:
            write_stack(tmp_path / name, pages)
        assert "\n" not in str(exc.value) and name in str(exc.value)
    assert not list(tmp_path.iterdir())


# --- animations -------------------------------------------------------------------------


def test_animated_png_round_trip(tmp_path):
    frames = [_samples((9, 11, 4), np.uint8, seed=i) for i in range(3)]
    ims = [Image.fromarray(f, "RGBA") for f in frames]
    ims[0].save(tmp_path / "a.png", save_all=True, append_images=ims[1:], duration=[40, 80, 120], loop=2)
    pages, info = read_stack(tmp_path / "a.png")
    assert info.pages == 3 and [p.duration for p in info.page_info] == [40, 80, 120]
    assert info.layout.loop == 2
    with _no_warnings():
        out = write_stack(tmp_path / "b.png", pages, info)
    with Image.open(out) as im:
        assert im.n_frames == 3 and im.info["loop"] == 2
        for i in range(3):
            im.seek(i)
            im.load()
            assert im.info["duration"] == [40, 80, 120][i]
            np.testing.assert_array_equal(np.asarray(im.convert("RGBA")), frames[i])


def test_animated_gif_frames_durations_and_transparency(tmp_path):
    rng = np.random.default_rng(0)
    palette_frames = []
    for i in range(3):
        rgba = np.zeros((20, 24, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 4, (20, 24, 3)) * 60  # 64 colours: exact in a GIF
        rgba[..., 3] = 255
        rgba[: 2 + i, :, 3] = 0
        palette_frames.append(rgba)
    ims = [Image.fromarray(f, "RGBA") for f in palette_frames]
    ims[0].save(tmp_path / "a.gif", save_all=True, append_images=ims[1:], duration=[50, 60, 70], loop=0,
                disposal=2)
    pages, info = read_stack(tmp_path / "a.gif")
    assert info.format == "gif" and info.pages == 3 and pages[0].shape == (20, 24, 3)
    assert [p.duration for p in info.page_info] == [50, 60, 70]
    for i, f in enumerate(palette_frames):
        np.testing.assert_array_equal(info.page_info[i].alpha, f[..., 3])
    with _no_warnings():
        out = write_stack(tmp_path / "b.gif", pages, info)
    back, info2 = read_stack(out)
    for i, f in enumerate(palette_frames):
        np.testing.assert_array_equal(info2.page_info[i].alpha, f[..., 3])
        shown = f[..., 3] > 0
        np.testing.assert_array_equal(from_float32(back[i], np.uint8)[shown], f[..., :3][shown])
    # restored frames have more than 256 colours: said, not hidden
    noisy = [np.clip(p + rng.normal(0, 0.1, p.shape), 0, 1).astype(np.float32) for p in pages]
    with pytest.warns(DataLossWarning, match="256 colours"):
        write_stack(tmp_path / "c.gif", noisy, info)


@pytest.mark.skipif(not __import__("PIL.features").features.check("webp"), reason="Pillow without WebP")
def test_animated_webp_lossless_round_trip(tmp_path):
    frames = [_samples((8, 10, 3), np.uint8, seed=i) for i in range(2)]
    ims = [Image.fromarray(f) for f in frames]
    ims[0].save(tmp_path / "a.webp", save_all=True, append_images=ims[1:], duration=[30, 90], lossless=True)
    pages, info = read_stack(tmp_path / "a.webp")
    assert info.pages == 2 and info.layout.compression == "lossless"
    back, _ = read_stack(write_stack(tmp_path / "b.webp", pages, info))
    for i in range(2):
        np.testing.assert_array_equal(from_float32(back[i], np.uint8), frames[i])


def test_16bit_animation_falls_back_to_8bit_with_a_warning(tmp_path):
    pages = [np.full((4, 5), 0.5, np.float32), np.full((4, 5), 0.25, np.float32)]
    from restorekit.io import ImageInfo

    with pytest.warns(DataLossWarning, match="animated PNG cannot hold uint16"):
        out = write_stack(tmp_path / "a.png", pages, ImageInfo(np.dtype(np.uint16), "png"))
    back, info = read_stack(out)
    assert info.pages == 2 and info.dtype == np.uint8
    assert from_float32(back[1], np.uint8)[0, 0] == 64


def test_gif_frames_share_one_layout(tmp_path):
    gray = np.tile(np.arange(0, 240, 20, dtype=np.uint8), (6, 1))  # [6, 12], 12 grays
    colour = np.stack([gray, gray[:, ::-1], np.zeros_like(gray)], axis=-1)
    frames = [Image.fromarray(gray).convert("RGB"), Image.fromarray(gray[:, ::-1].copy()).convert("RGB")]
    frames[0].save(tmp_path / "g.gif", save_all=True, append_images=frames[1:])
    pages, info = read_stack(tmp_path / "g.gif")
    assert [p.shape for p in pages] == [(6, 12), (6, 12)]  # every frame gray: a gray stack
    np.testing.assert_array_equal(from_float32(pages[1], np.uint8), gray[:, ::-1])
    frames[1] = Image.fromarray(colour)
    frames[0].save(tmp_path / "c.gif", save_all=True, append_images=frames[1:])
    pages, _ = read_stack(tmp_path / "c.gif")
    assert [p.shape for p in pages] == [(6, 12, 3), (6, 12, 3)]  # one colour frame: all RGB
    np.testing.assert_array_equal(from_float32(pages[1], np.uint8), colour)
    assert read_image(tmp_path / "g.gif")[0].shape == (6, 12)
