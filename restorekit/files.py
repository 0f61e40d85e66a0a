"""The one file loop behind ``restorekit denoise``, ``deblur`` and ``degrade``.

Read a file (every page of a stack), hand each page to the command's ``process``, write the
result in the input's format, bit depth, channels, alpha and metadata; then the next file.
A file that fails is reported in one line (:func:`one_line`) and the others still run; the
caller turns the returned failures into a summary and a non-zero exit. Pairing inputs with
outputs, and refusing what would destroy data, is :func:`restorekit.outputs.plan_outputs`.

The loop runs here (``workers=1``), in worker processes on this machine (``workers=N``,
:mod:`restorekit.parallel`) or on a Ray cluster (``engine="ray"``, :mod:`restorekit.cluster`):
the same per-file lines, failures and outputs, byte for byte. The last two need a
picklable ``process``: a task of :mod:`restorekit.tasks`.

>>> jobs = plan_outputs(["noisy/"], "clean/")                                  # doctest: +SKIP
>>> failures = run_files(jobs, lambda image, job: rk.denoise(image), reporter)  # doctest: +SKIP
>>> failures = run_files(jobs, DenoiseTask(sigma=25 / 255), reporter, workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import importlib
import logging
import warnings
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol, Sequence

import numpy as np

from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.outputs import Job

Process = Callable[[np.ndarray, Job], np.ndarray]
Note = Callable[[Job], str]
# A file's own failures: reported, and the other files still run.
FILE_ERRORS = (RestorekitError, OSError, MemoryError, ValueError)
ENGINES = ("local", "ray")
log = logging.getLogger(__name__)  # a failed file's traceback, at DEBUG (the CLI's --debug shows it)
# What an engine yields per job, in the jobs' order: (index, reason or None, note, exception or
# None, warnings raised in a worker as (category "module:name", message), to be shown here).
Outcome = tuple[int, Optional[str], str, Optional[BaseException], Sequence[tuple[str, str]]]


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
    from restorekit.io import read_stack, write_stack

    pages, info = read_stack(job.source)
    restored = [process(page, job) for page in pages]
    del pages
    return write_stack(job.target, restored, info)


def attempt(job: Job, process: Process, note: Note | None = None) -> tuple[str | None, str, BaseException | None]:
    """One job: ``(None, note, None)`` when written, ``(one-line reason, "", exception)`` when it failed.

    A model that cannot be loaded (:class:`ModelLoadError`) is raised: every file would fail alike.
    Every engine runs each job through this, in the process that does the work.
    """
    try:
        process_file(job, process)
    except ModelLoadError:
        raise
    except FILE_ERRORS as exc:
        return one_line(job.source, exc), "", exc
    return None, note(job) if note is not None else "", None


def attempt_in_worker(job: Job, process: Process, note: Note | None = None) -> tuple[str | None, str, bool, list]:
    """:func:`attempt` in a worker process: ``(reason or None, note, fatal, warnings)``.

    What the parent must show comes back as values that pickle: a :class:`ModelLoadError`
    as its message with ``fatal``, each warning as ``(category "module:name", message)``
    (the parent warns again, so the CLI prints it as for one process).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the parent's filters decide what is shown
        try:
            reason, text, _ = attempt(job, process, note)  # the exception stays here: it may not pickle
            fatal = False
        except ModelLoadError as exc:
            reason, text, fatal = str(exc), "", True
    return reason, text, fatal, [(f"{w.category.__module__}:{w.category.__qualname__}", str(w.message))
                                 for w in caught]


def _warn_again(caught: Sequence[tuple[str, str]]) -> None:
    for name, message in caught:
        module, _, qualname = name.partition(":")
        try:
            category = functools.reduce(getattr, qualname.split("."), importlib.import_module(module))
        except (ImportError, AttributeError):
            category = UserWarning
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        warnings.warn(message, category, stacklevel=3)


def run_files(jobs: Sequence[Job], process: Process, reporter: Reporter | None = None, *,
              note: Note | None = None, workers: int | None = None, engine: str = "local",
              address: str | None = None) -> list[tuple[Job, str]]:
    """Process every job; return ``(job, one-line reason)`` for each that failed.

    A file that cannot be read, processed or written is reported and skipped (a run of one
    file, counting those ``--skip-existing`` left out, raises its error instead). A model
    that cannot be loaded stops the run (:class:`ModelLoadError`): every file would fail alike.

    ``process`` is a function ``(image, job) -> image`` or a task (:mod:`restorekit.tasks`),
    whose ``note`` then gives the per-file note and which hears the progress of tiles.
    ``workers``: processes on this machine (default 1); with ``engine="ray"``, actors on the
    cluster at ``address`` (default: one per CPU of the cluster, a local one when no address).
    """
    reporter = reporter or Silent()
    if note is None:
        note = getattr(process, "note", None)
    if engine not in ENGINES:
        raise RestorekitError(f"unknown engine {engine!r} (expected {' or '.join(ENGINES)})")
    if address is not None and engine != "ray":
        raise RestorekitError("--address names a Ray cluster; add --engine ray")
    if workers is not None and workers < 1:
        raise RestorekitError(f"--workers must be at least 1, got {workers}")
    alone = len(jobs) + len(getattr(jobs, "skipped", ())) == 1  # one file given (a Plan knows the skipped)
    jobs = list(jobs)
    if engine == "ray":
        from restorekit.cluster import ray_outcomes

        outcomes, here = ray_outcomes(jobs, process, note, address=address, workers=workers), False
    elif (workers or 1) > 1 and len(jobs) > 1:
        from restorekit.parallel import pool_outcomes

        outcomes, here = pool_outcomes(jobs, process, note, min(workers, len(jobs))), False
    else:
        outcomes, here = _local_outcomes(jobs, process, note, reporter), True

    failures = []
    for index, reason, text, exc, caught in outcomes:
        job = jobs[index]
        if not here:  # a worker did it: the file starts and ends for the display at once
            reporter.start(job, index)
            _warn_again(caught)
        if reason is None:
            reporter.done(job, text)
            continue
        if alone:  # one file: its own error is the whole story
            raise RestorekitError(reason) from exc
        if exc is not None:
            log.debug("%s failed:", job.source, exc_info=exc)
        failures.append((job, reason))
        reporter.error(job, reason)
    return failures


def _local_outcomes(jobs: list[Job], process: Process, note: Note | None, reporter: Reporter) -> Iterator[Outcome]:
    if hasattr(process, "note"):  # a task: it reports the tiles of a large image
        process = functools.partial(process, progress=reporter.tile)
    for index, job in enumerate(jobs):
        reporter.start(job, index)
        yield (index, *attempt(job, process, note), ())


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


def summary(verb: str, jobs: Sequence[Job], failures: list[tuple[Job, str]], out, skipped: Sequence[Job] = ()) -> str:
    """The closing line; raises :class:`RestorekitError` (exit 1) when any file failed.

    ``skipped``: jobs left out because their output exists (``--skip-existing``), counted apart.
    """
    done = len(jobs) - len(failures)
    also = f", {len(skipped)} skipped: output exists" if skipped else ""
    if failures:
        raise RestorekitError(f"{len(failures)} of {len(jobs)} images failed ({done} written to {out}{also})")
    return f"{verb} {done} image{'s' if done != 1 else ''} -> {out}" + (f" ({also[2:]})" if skipped else "")
