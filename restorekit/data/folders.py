"""Images streamed from folders, with a bounded in-memory cache.

Training draws random patches from random images. Decoding a file for every patch would be
slow, and loading a whole data set into memory does not scale, so decoded images are kept
in a least-recently-used cache bounded in bytes: small sets (Train400) end up fully cached,
large ones stream.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Iterable

import numpy as np

from restorekit.errors import RestorekitError

# ITU-R BT.601 luma, as MATLAB's rgb2gray and Pillow's convert("L") use.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """HxW or HxWx3 float image -> HxWxC with C = ``channels`` (1 or 3)."""
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == channels:
        return image
    if channels == 1:
        return (image @ _LUMA)[..., None]
    return np.repeat(image, 3, axis=-1)


class ImageFolder:
    """The images of one or more folders, as float32 HxWxC arrays with C = ``channels``.

    >>> folder = ImageFolder(["../shared/data/train/Train400"], channels=1)  # doctest: +SKIP
    >>> folder[0].shape                                                      # doctest: +SKIP
    (180, 180, 1)
    """

    def __init__(self, dirs: Iterable[str | Path], channels: int = 1, cache_mb: float = 1024, min_size: int = 0,
                 *, exclude: Iterable[Path] = ()):
        from restorekit.io import list_images

        self.channels = channels
        skip = {Path(p).resolve() for p in exclude}
        self.paths: list[Path] = [p for p in list_images([str(d) for d in dirs]) if p.resolve() not in skip]
        if not self.paths:
            raise RestorekitError(f"no training images left in {', '.join(map(str, dirs))}")
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self._cache_limit = int(cache_mb * 2**20)
        self.min_size = min_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        from restorekit.io import read_image

        image = to_channels(read_image(self.paths[index])[0], self.channels)
        if min(image.shape[:2]) < self.min_size:
            raise RestorekitError(
                f"{self.paths[index]}: {image.shape[1]}x{image.shape[0]} is smaller than the "
                f"{self.min_size}x{self.min_size} patches; use a smaller --patch-size"
            )
        self._cache[index] = image
        self._cache_bytes += image.nbytes
        while self._cache_bytes > self._cache_limit and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes
        return image


def holdout(dirs: Iterable[str | Path], count: int) -> list[Path]:
    """A fixed handful of the training images, kept out of training to validate on.

    ``count`` images spread evenly over the sorted file list (every k-th), so the choice
    depends only on the folders' contents and never on a seed or the machine.
    """
    from restorekit.io import list_images

    paths = list_images([str(d) for d in dirs])
    if count <= 0:
        return []
    if count >= len(paths):
        raise RestorekitError(f"cannot hold out {count} of {len(paths)} training images")
    step = len(paths) / count
    return [paths[int(i * step + step / 2)] for i in range(count)]


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image file, from its header where possible."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except Exception:
        from restorekit.io import read_image

        return read_image(path)[0].shape[:2]
