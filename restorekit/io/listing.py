"""Finding images: files, folders and glob patterns -> image paths."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterable

from restorekit.errors import RestorekitError
from restorekit.io.formats import IMAGE_SUFFIXES


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
