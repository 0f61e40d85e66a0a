"""``restorekit export``: write a model as ONNX for runtimes without PyTorch."""

from __future__ import annotations

import click

from restorekit.cli.app import app


@app.command("export")
@click.argument("model", metavar="NAME|PATH")
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="Output format.")
@click.option("-o", "--out", required=True, metavar="F.onnx", help="Output file (written atomically).")
@click.option("--opset", type=click.IntRange(11, 20), help="ONNX opset version, 11 to 20 (default 17).")
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@click.option("--check", is_flag=True,
              help="Run the file with onnxruntime on two sizes and print the largest difference from PyTorch.")
def export_command(model, fmt, out, opset, check, overwrite):
    """Export a shipped model, a .safetensors file or a training run to ONNX.

    Inputs: image [N, C, H, W] in [0, 1], and for noise-conditioned models sigma [N, 1, 1, 1]
    on the [0, 1] scale (25/255 for 25); output: restored [N, C, H, W]. N, H and W are
    dynamic: the graph pads any size to the model's `multiple` and crops back.

    \b
    restorekit export fastunet.gray --format onnx -o fastunet-gray.onnx
    """
    from restorekit.export import DEFAULT_OPSET, check_onnx, export_onnx, read_onnx_meta, require
    from restorekit.models import load_model
    from restorekit.outputs import check_output_file

    check_output_file(out, overwrite=overwrite)
    require("onnx")  # before loading anything: a missing package is the likeliest failure
    if check:
        require("onnxruntime")
    net = load_model(model)
    path = export_onnx(net, out, opset=opset or DEFAULT_OPSET)
    meta = read_onnx_meta(path)
    click.echo(f"{model} -> {path} (opset {opset or DEFAULT_OPSET}, {meta['channels']} channel(s), "
               f"conditioned: {meta['conditioned']}, any H and W)")
    if check:
        worst = check_onnx(net, path)
        click.echo(f"onnxruntime vs PyTorch on two sizes: max abs difference {worst:.2e}")

