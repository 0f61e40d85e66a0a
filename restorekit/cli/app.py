"""The click group that every command file registers itself on."""

import click


@click.group(
    name="restorekit",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="restorekit")
def app() -> None:
    """Image restoration: denoise, deblur, train, fine-tune and evaluate.

    Noise levels on the command line are on the 0-255 scale (``--noise gaussian:25``);
    add ``--debug`` anywhere to see a traceback instead of a one-line error.
    """
