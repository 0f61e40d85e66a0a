"""Read and write images: PNG, JPEG, TIFF, BMP, GIF, WebP files <-> float32 numpy pages.

Every image inside restorekit is float32, ``HxW`` (gray) or ``HxWx3`` (RGB). Reading returns
an :class:`ImageInfo` that remembers what the file held (sample type and range, alpha,
pages, encoding, metadata) so that writing gives back a file of the same kind::

    image, info = read_image(path)      # the first page; info.pages says how many there are
    write_image(target, image, info)
    pages, info = read_stack(path)      # every page / frame, a single-page file is a stack of one
    write_stack(target, pages, info)    # same pages, dtype, channels, alpha, layout, metadata

**Values and clipping.**

- uint8 / uint16 files are read as [0, 1]; written back clipped to [0, 1] and rounded half
  up (``uint8(clip(x) * 255 + 0.5)``): 8- and 16-bit outputs clip to the dtype's range.
- float16 / float32 / float64 TIFFs are read in their real range, never clipped (float64
  is rounded to float32), and written back as the same float type, never clipped.
- int8 / int16 / uint32 / int32 TIFFs are read as float32 in their own units (not scaled;
  exact up to 2**24) and written back as the same type, rounded and clipped to its range.
- ``info.dtype`` and ``info.value_range`` record the file's sample type and the (min, max)
  of the samples read, in the file's units.
- Where the output format cannot hold the sample type (float or 16-bit into JPEG, float into
  PNG) the nearest type is used and a :class:`~restorekit.errors.DataLossWarning` says so;
  so does an alpha channel written to JPEG (dropped).

**Orientation.** Pixels are returned as stored, never rotated; the EXIF / TIFF Orientation
tag is kept in ``info.metadata`` and written back, so a viewer rotates the output once.

**Modes.** Palette -> RGB (RGBA with transparency), bilevel -> gray 0/255, gray+alpha ->
gray + ``info.alpha``, CMYK -> RGB (naive, no colour management; its ICC profile dropped),
I;16 -> uint16, MINISWHITE TIFF -> inverted to 0 = black (and back on writing).

See docs/files.md for formats, pages and metadata in detail.
"""

from restorekit.io.formats import IMAGE_SUFFIXES, output_format
from restorekit.io.info import ImageInfo, Layout, Metadata, PageInfo
from restorekit.io.listing import list_images
from restorekit.io.read import read_image, read_stack
from restorekit.io.samples import from_float32, to_float32
from restorekit.io.write import write_image, write_stack

__all__ = [
    "IMAGE_SUFFIXES", "ImageInfo", "Layout", "Metadata", "PageInfo", "from_float32", "list_images",
    "output_format", "read_image", "read_stack", "to_float32", "write_image", "write_stack",
]
