"""Click options and helpers shared by the command files, typed once and reused.

This module is imported when the CLI starts, so it stays light: the library (torch,
scikit-image) and rich load inside the callbacks, on first use.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import click


def split_commas(values: str | tuple[str, ...] | None) -> list[str]:
    """``"a,b"`` or ``("a,b", "c")`` -> ``["a", "b", "c"]``, empty items dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = (values,)
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _validate_noise(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    # A bad spec raises SpecError (a RestorekitError), not click.BadParameter, so that the
    # user sees the same one-line "error: ..." and exit 1 as for every other bad input.
    if value is None:
        return None
    from restorekit.degradations import parse_spec

    specs = split_commas(value)
    if not specs:
        from restorekit.errors import SpecError

        raise SpecError("--noise is empty; give a spec such as gaussian:25")
    for spec in specs:
        parse_spec(spec)
    return specs


def noise_option(*, required: bool = True, multiple_specs: bool = True, help: str | None = None):
    """``--noise SPEC[,SPEC]``: degradation specs, each checked by ``parse_spec``.

    The value handed to the command is a list of spec strings (one item unless
    ``multiple_specs``). Noise levels are on the 0-255 scale: ``gaussian:25``.
    """

    def callback(ctx, param, value):
        specs = _validate_noise(ctx, param, value)
        if specs is not None and not multiple_specs:
            if len(specs) != 1:
                from restorekit.errors import SpecError

                raise SpecError(f"--noise takes one spec here, got {len(specs)}")
            return specs[0]
        return specs

    return click.option(
        "--noise",
        "noise",
        metavar="SPEC[,SPEC]" if multiple_specs else "SPEC",
        required=required,
        callback=callback,
        help=help
        or "Degradation, 0-255 units: gaussian:25, poisson:30+gaussian:5, blur:motion-15-45+gaussian:2.55, blur:k.npz#levin3+gaussian:2.55"
        + (" (comma-separated for several)." if multiple_specs else "."),
    )


def seed_option(default: int = 0):
    """``--seed N``: the seed of every random draw the command makes."""
    return click.option("--seed", type=int, default=default, show_default=True, help="Random seed.")


@contextlib.contextmanager
def progress_bar(total: int, description: str = "working") -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr; yields ``advance(n=1, description=None)``.

    Shown only on an interactive terminal, so that logs and captured output stay clean.

    >>> with progress_bar(10, "evaluating") as advance:   # doctest: +SKIP
    ...     for _ in range(10):
    ...         advance()
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1, description: str | None = None) -> None:
            if description is None:
                progress.advance(task, n)
            else:
                progress.update(task, advance=n, description=description)

        yield advance


def stdout_console():
    """A rich console on stdout, wide enough that tables do not wrap in logs and pipes."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console
