"""Progress for long commands: a rich bar on a terminal, plain periodic lines elsewhere.

Logs, CI and notebooks are not terminals; there a long command still says how far it is,
one line at most every :data:`EVERY_S` seconds, so that a 3-minute evaluation or a
12-megapixel denoise is never silent.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

import click

EVERY_S = 10.0


class _Ticker:
    """Says ``text`` on stderr when ``EVERY_S`` seconds have passed since it last spoke."""

    def __init__(self):
        self.last = time.monotonic()

    def __call__(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= EVERY_S:
            self.last = now
            click.echo(text, err=True)


def _rich(console):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


class FileProgress:
    """The file loop's reporter (:class:`restorekit.files.Reporter`): files, and tiles of a large one."""

    def __init__(self, total: int, progress=None):
        self.total, self.progress, self.index, self.name = total, progress, 0, ""
        self.ticker = _Ticker()
        if progress is not None:
            self.files = progress.add_task("images", total=total)
            self.tiles = progress.add_task("  tiles", total=1, visible=False)

    def start(self, job, index: int) -> None:
        self.index, self.name = index, job.source.name
        if self.progress is not None:
            self.progress.update(self.files, description=f"images ({self.name})")
            self.progress.reset(self.tiles, total=1, visible=False)

    def tile(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.update(self.tiles, completed=done, total=total, visible=total > 1)
        elif total > 1:
            self.ticker(f"[{self.index + 1}/{self.total}] {self.name}: tile {done}/{total}")

    def done(self, job, note: str = "") -> None:
        if self.progress is not None:
            self.progress.advance(self.files)
        click.echo(f"{job.source} -> {job.target}" + (f" ({note})" if note else ""))

    def error(self, job, reason: str) -> None:
        if self.progress is not None:
            self.progress.advance(self.files)
        click.echo(f"error: {reason}", err=True)


@contextlib.contextmanager
def file_progress(total: int) -> Iterator[FileProgress]:
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield FileProgress(total)
        return
    with _rich(console) as progress:
        yield FileProgress(total, progress)


@contextlib.contextmanager
def progress_bar(total: int, description: str = "working") -> Iterator[Callable[..., None]]:
    """Yields ``advance(n=1, description=None)``: a bar on a terminal, else a line every 10 s.

    >>> with progress_bar(10, "evaluating") as advance:   # doctest: +SKIP
    ...     for _ in range(10):
    ...         advance()
    """
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        ticker, state = _Ticker(), {"done": 0, "what": description}

        def advance(n: int = 1, description: str | None = None) -> None:
            state["done"] += n
            state["what"] = description or state["what"]
            ticker(f"{state['what']}: {state['done']}/{total}", force=state["done"] == total and total > 1)

        yield advance
        return
    with _rich(console) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1, description: str | None = None) -> None:
            progress.update(task, advance=n, **({"description": description} if description else {}))

        yield advance
