"""Click options and helpers shared by the command files, typed once and reused.

This module is imported when the CLI starts, so it stays light: the library (torch,
scikit-image) and rich load inside the callbacks, on first use.
"""

from __future__ import annotations

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


def _parse_sigma(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--sigma 25`` -> 25/255 (the library's [0, 1] scale); ``auto`` -> None (blind)."""
    import math

    from restorekit.errors import RestorekitError

    if value is None or value.strip().lower() == "auto":
        return None
    try:
        sigma = float(value)
    except ValueError:
        raise RestorekitError(f"--sigma must be a number on the 0-255 scale or 'auto', got {value!r}") from None
    if not math.isfinite(sigma) or not 0 <= sigma <= 255:
        raise RestorekitError(f"--sigma must be between 0 and 255 (the 0-255 scale) or 'auto', got {value}")
    return sigma / 255.0


def sigma_option(help: str = "Noise level on the 0-255 scale, or auto: estimate it per image (blind)."):
    """``--sigma N|auto``: handed to the command on the library's [0, 1] scale (None: blind)."""
    return click.option("--sigma", default="auto", show_default=True, metavar="N|auto", callback=_parse_sigma,
                        help=help)


def ensemble_option(help: str):
    """``--ensemble 1|2|4|8``: the flips/rotations averaged (``restorekit.infer.apply.ENSEMBLES``), as an int."""
    return click.option("--ensemble", type=click.Choice(["1", "2", "4", "8"]), default="1", show_default=True,
                        callback=lambda ctx, param, value: int(value), help=help)


def file_command_options(fn):
    """``-o/--out`` and ``--overwrite``: the options of every command that writes an image per input."""
    fn = click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")(fn)
    return click.option("-o", "--out", "out", required=True, metavar="OUT", type=click.Path(),
                        help="Output folder (created if needed), or a file name for a single input.")(fn)


def collection_options(fn):
    """``--skip-existing``, ``--workers``, ``--engine``, ``--address``: how a collection of files runs."""
    fn = click.option("--address", metavar="ADDR",
                      help="With --engine ray: the cluster to join (auto, HOST:6379, ray://HOST:10001); "
                           "default: a local Ray started for the run.")(fn)
    fn = click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                      help="local: this machine; ray: a Ray cluster (pip install 'restorekit[ray]').")(fn)
    fn = click.option("--workers", type=click.IntRange(min=1), metavar="N",
                      help="Processes working on files at once (default 1; with --engine ray, "
                           "one per CPU of the cluster).")(fn)
    return click.option("--skip-existing", is_flag=True,
                        help="Leave outputs that already exist and do the rest: continues a stopped run.")(fn)


def device_option(fn):
    return click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")(fn)


def stdout_console():
    """A rich console on stdout, wide enough that tables do not wrap in logs and pipes."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console
