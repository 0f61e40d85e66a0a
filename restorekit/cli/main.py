"""Entry point of the ``restorekit`` command.

Known errors (:class:`restorekit.errors.RestorekitError`, bad options) become one line on
stderr and a non-zero exit; ``--debug`` shows the traceback instead, and the traceback of
each file that failed in a run of several.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import warnings

import click

from restorekit.allocator import keep_freed_memory
from restorekit.cli.app import app
from restorekit.errors import RestorekitError

# One module per command; importing it registers the command on `app`.
COMMANDS = ("degrade", "evaluate", "denoise", "train", "finetune", "models", "export", "deblur", "serve", "identify")

for _name in COMMANDS:
    importlib.import_module(f"restorekit.cli.{_name}")


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings (data a format cannot hold, ...) as one ``warning: ...`` line."""
    from restorekit.errors import DataLossWarning

    if issubclass(category, DataLossWarning):
        print(f"warning: {message}", file=file or sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


@contextlib.contextmanager
def _debug_log(debug: bool):
    """With ``--debug``, restorekit's DEBUG log on stderr: among it, the traceback of each file
    that failed in a run of several (:mod:`restorekit.files`), which goes on past it."""
    if not debug:
        yield
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    logger = logging.getLogger("restorekit")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    warnings.showwarning = show_warning
    keep_freed_memory()  # large tensors reuse warm pages: up to 2x faster inference (restorekit.allocator)
    try:
        # Without standalone mode click returns the code given to ctx.exit(code).
        with _debug_log(debug):
            code = app.main(args=args, prog_name="restorekit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # a bad option or argument: one line, exit 2 (click's convention)
        if debug:
            raise
        command = f" {exc.ctx.command_path}" if getattr(exc, "ctx", None) is not None else ""
        hint = f" (see restorekit{command.removeprefix(' restorekit')} --help)" if isinstance(exc, click.UsageError) else ""
        print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except (RestorekitError, OSError) as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
