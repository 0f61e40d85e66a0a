"""Atomic file writes: write a temporary file beside the target, then rename it over.

A reader (or a resumed training run) sees either the old file or the complete new one,
never half of one, even if the writer is killed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _read_umask() -> int:
    """The process umask, read once at import: files get ``0o666 & ~umask``, as ``open`` gives.

    Linux shows it in /proc/self/status without changing it; elsewhere ``os.umask`` must set
    a value to read the old one, which is done here once rather than on every write (where
    another thread creating a file in between would get the wrong mode). A umask changed
    after import is not seen.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    ``suffix`` (default: ``path``'s own) matters to writers that pick the format from the
    file name. On any error the temporary file is removed and ``path`` is left untouched.

    >>> with atomic_path("out/result.png") as tmp:   # doctest: +SKIP
    ...     image.save(tmp)
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix if suffix is None else suffix)
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        _flush(tmp)  # on disk before it takes the name: a power cut never leaves a torn file
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and tmp in {str(f) for f in (exc.filename, exc.filename2) if f is not None}:
            # the user never named the temporary file: say which file could not be written
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def _flush(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path
