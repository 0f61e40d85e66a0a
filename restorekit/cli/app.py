"""The Typer application that every command file registers itself on."""

import typer

app = typer.Typer(
    name="restorekit",
    help="Image restoration: denoise, deblur, train, fine-tune and evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
