"""The one file loop behind ``restorekit denoise``, ``deblur`` and ``degrade``.

Read a file (every page of a stack), hand each page to the command's ``process``, write the
result in the input's format, bit depth, channels, alpha and metadata; then the next file.
A file that fails is reported in one line (:func:`one_line`) and the others still run; the
caller turns the returned failures into a summary and a non-zero exit. Pairing inputs with
outputs, and refusing what would destroy data, is :func:`restorekit.outputs.plan_outputs`.

>>> jobs = plan_outputs(["noisy/"], "clean/")                                  # doctest: +SKIP
>>> failures = run_files(jobs, lambda image, job: rk.denoise(image), reporter)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.outputs import Job

Process = Callable[[np.ndarray, Job], np.ndarray]


class Reporter(Protocol):
    """What the loop tells the user about (the CLI's progress display implements it)."""

    def start(self, job: Job, index: int) -> None: ...
    def tile(self, done: int, total: int) -> None: ...
    def done(self, job: Job, note: str) -> None: ...
    def error(self, job: Job, reason: str) -> None: ...


class Silent:
    """A reporter that says nothing."""

    def start(self, job, index): pass
    def tile(self, done, total): pass
    def done(self, job, note): pass
    def error(self, job, reason): pass


def process_file(job: Job, process: Process) -> Path:
    """``job.source`` through ``process`` (page by page) into ``job.target``; the path written."""
    from restorekit.io import read_image, write_image

    image, info = read_image(job.source)
    restored = process(image, job)
    del image
    return write_image(job.target, restored, info)


def run_files(jobs: list[Job], process: Process, reporter: Reporter | None = None, *,
              note: Callable[[Job], str] | None = None) -> list[tuple[Job, str]]:
    """Process every job; return ``(job, one-line reason)`` for each that failed.

    A file that cannot be read, processed or written is reported and skipped (a run of one
    file raises its error instead). A model that cannot be loaded stops the run (:class:`ModelLoadError`): every file would fail the same way.
    """
    reporter = reporter or Silent()
    failures = []
    for index, job in enumerate(jobs):
        reporter.start(job, index)
        try:
            process_file(job, process)
        except ModelLoadError:
            raise
        except (RestorekitError, OSError, MemoryError, ValueError) as exc:
            if len(jobs) == 1:  # one file: its own error is the whole story
                raise RestorekitError(one_line(job.source, exc)) from exc
            reason = one_line(job.source, exc)
            failures.append((job, reason))
            reporter.error(job, reason)
            continue
        reporter.done(job, note(job) if note is not None else "")
    return failures


def one_line(source: Path, exc: BaseException) -> str:
    """``exc`` as one line that names the file once."""
    if isinstance(exc, MemoryError):
        text = "out of memory (try a smaller --tile)"
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
        text = lines[0] if lines else type(exc).__name__
    return text if text.startswith(str(source)) else f"{source}: {text}"


def summary(verb: str, jobs: list[Job], failures: list[tuple[Job, str]], out) -> str:
    """The closing line; raises :class:`RestorekitError` (exit 1) when any file failed."""
    done = len(jobs) - len(failures)
    if failures:
        raise RestorekitError(f"{len(failures)} of {len(jobs)} images failed ({done} written to {out})")
    return f"{verb} {done} image{'s' if done != 1 else ''} -> {out}"
