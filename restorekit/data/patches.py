"""Random patches with the 8-fold dihedral augmentation (flips and 90-degree rotations)."""

from __future__ import annotations

import numpy as np
import torch


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 flips/rotations of ``x`` (..., H, W); k in 0..7, k=0 is the identity."""
    if k >= 4:
        x = x.flip(-1)
    return torch.rot90(x, k % 4, dims=(-2, -1))


def undo_dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of :func:`dihedral`: ``undo_dihedral(dihedral(x, k), k)`` is ``x``."""
    x = torch.rot90(x, -(k % 4), dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def random_patches(images, count: int, size: int, generator: torch.Generator, *, return_indices: bool = False):
    """``count`` random ``size`` x ``size`` patches from random images of ``images``.

    ``images`` is indexable (``images[i]`` -> HxWxC float32 numpy array, e.g. an
    :class:`~restorekit.data.folders.ImageFolder`). Every choice (image, position, flip)
    comes from ``generator``, so a batch is a pure function of the generator's seed.
    Returns a float32 tensor [count, C, size, size] (and the image index of each patch
    with ``return_indices``).
    """
    picks = torch.randint(len(images), (count,), generator=generator).tolist()
    flips = torch.randint(8, (count,), generator=generator).tolist()
    corners = torch.rand(count, 2, generator=generator).tolist()
    out = []
    for index, k, (u, v) in zip(picks, flips, corners):
        image = images[index]
        h, w = image.shape[:2]
        if h < size or w < size:
            raise ValueError(f"image {index} ({w}x{h}) is smaller than the {size}x{size} patch")
        top, left = int(u * (h - size + 1)), int(v * (w - size + 1))
        patch = np.ascontiguousarray(image[top : top + size, left : left + size].transpose(2, 0, 1))
        out.append(dihedral(torch.from_numpy(patch), k))
    patches = torch.stack(out)
    return (patches, picks) if return_indices else patches
