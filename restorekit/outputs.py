"""Pair input images with output paths, refusing anything that would destroy data.

Shared by every command that writes one image per input (``denoise``, ``deblur``,
``degrade``): all refusals are raised before the first image is written, so a refused run
leaves nothing half done.

>>> plan_outputs(["noisy/"], "clean/")   # doctest: +SKIP
[Job(source=PosixPath('noisy/a.png'), target=PosixPath('clean/a.png')), ...]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from restorekit.errors import RestorekitError
from restorekit.io import IMAGE_SUFFIXES, list_images, output_format
from restorekit.io.formats import is_image_name


@dataclass(frozen=True)
class Job:
    """One image to process: read ``source``, write ``target``."""

    source: Path
    target: Path


class Plan(list):
    """The jobs to run (a list of :class:`Job`), and in ``skipped`` those whose output exists."""

    def __init__(self, jobs: Iterable[Job] = (), skipped: Iterable[Job] = ()):
        super().__init__(jobs)
        self.skipped: list[Job] = list(skipped)


def plan_outputs(inputs: Iterable[str | os.PathLike], out: str | os.PathLike, *, suffix: str = "",
                 overwrite: bool = False, skip_existing: bool = False) -> Plan:
    """Pair each input image with its output path; refuse what would destroy data.

    ``out`` is a folder (``out/<stem><suffix><ext>``, the input's own extension, so the
    format is kept), or a file path when exactly one image is given and ``out`` has an
    image suffix. Raises :class:`RestorekitError`, before anything is written, when two
    inputs would write one file, or an output exists (an input included) and not ``overwrite``.
    With ``skip_existing`` an existing output (not an input) is no error: its job goes to
    ``plan.skipped`` instead, so that a stopped run continues where it was.
    """
    if skip_existing and overwrite:
        raise RestorekitError("--skip-existing keeps existing outputs, --overwrite replaces them; pass one")
    sources = list_images(inputs)
    out = Path(out)
    if _names_a_file(out):
        if len(sources) != 1:
            raise RestorekitError(f"-o {out} names a file but {len(sources)} images were given; give a folder")
        targets = [out]
    else:
        if out.exists() and not out.is_dir():
            raise RestorekitError(f"-o {out} exists and is not a folder")
        if os.sep in suffix or "/" in suffix:
            raise RestorekitError(f"--suffix may not contain a path separator, got {suffix!r}")
        targets = [out / f"{src.stem}{suffix}{src.suffix}" for src in sources]

    inputs_by_path = {src.resolve(): src for src in sources}
    jobs, seen = Plan(), {}
    for src, dst in zip(sources, targets):
        key = dst.resolve()
        if key in seen:
            raise RestorekitError(
                f"{seen[key]} and {src} would both be written to {dst}; use separate runs")
        seen[key] = src
        other = inputs_by_path.get(key)
        if other is not None and key != src.resolve():
            # even with --overwrite: that input would be replaced before it is read
            raise RestorekitError(f"{src} would be written over {other}, another input; use another -o")
        if dst.exists() and not overwrite:
            what = "is the input" if _same_file(src, dst) else "exists"
            if skip_existing and what == "exists":
                jobs.skipped.append(Job(src, dst))
                continue
            raise RestorekitError(f"{dst} {what}; pass --overwrite to replace it")
        jobs.append(Job(src, dst))
    return jobs


def _names_a_file(out: Path) -> bool:
    """Whether ``-o`` names an image file (else a folder).

    A name with an image suffix that we cannot write (``.heic``, ``.webp`` without Pillow's
    WebP) is refused with one line rather than taken for a folder.
    """
    if out.is_dir() or not is_image_name(out):
        return False
    output_format(out, option="-o ")  # raises for a format we cannot write
    return out.suffix.lower() in IMAGE_SUFFIXES


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (), overwrite: bool = False,
                      option: str = "-o") -> Path:
    """A report, figure or export path, refused before any work when writing it would lose data.

    Refused: a path that is one of the ``inputs`` (an input image, even with ``--overwrite``),
    a folder, or an existing file without ``overwrite``. Returns the path.
    """
    path = Path(path)
    if path.is_dir():
        raise RestorekitError(f"{option} {path} is a folder; give a file name")
    resolved = path.resolve()
    for item in inputs:
        if Path(item).resolve() == resolved:
            raise RestorekitError(f"{option} {path} is one of the inputs; writing it would destroy that input")
    if path.exists() and not overwrite:
        raise RestorekitError(f"{option} {path} exists; pass --overwrite to replace it")
    return path
