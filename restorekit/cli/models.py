"""``restorekit models``: the shipped pretrained models, or the architectures."""

from __future__ import annotations

import click

from restorekit.cli.app import app


@app.command("models")
@click.option("--architectures", is_flag=True, help="List the registered architectures with their cost instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models_command(architectures: bool, as_json: bool):
    """List the shipped models: noise range, training data and measured PSNR."""
    import json

    rows = _architecture_rows() if architectures else _model_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no shipped models in this installation")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)


def _model_rows() -> list[dict]:
    from restorekit.models import list_models, resolve_model_path
    from restorekit.models.weights import read_meta

    rows = []
    for name in list_models():
        meta = read_meta(resolve_model_path(name))
        training = meta.get("training", {})
        scores = meta.get("psnr", {})  # e.g. {"BSD68": {"15": 31.7, "25": 29.2, "50": 26.2}}
        rows.append({
            "name": name,
            "arch": meta["arch"],
            "channels": meta["arch_args"].get("channels", 1),
            "noise": training.get("noise", ""),
            "data": ", ".join(d.rstrip("/").split("/")[-1] for d in training.get("data", [])),
            "PSNR (paper protocol)": "; ".join(
                f"{ds} " + " / ".join(f"{v:.2f}" for v in per_sigma.values()) + f" @ sigma {'/'.join(per_sigma)}"
                for ds, per_sigma in scores.items()
            ),
        })
    return rows


def _architecture_rows() -> list[dict]:
    from restorekit.models import create_model, list_architectures
    from restorekit.models.complexity import macs_per_pixel, parameters

    rows = []
    for name in list_architectures():
        model = create_model(name, channels=1)
        rows.append({
            "architecture": name,
            "conditioned": bool(getattr(model, "conditioned", False)),
            "params (M)": round(parameters(model) / 1e6, 3),
            "kMAC/pixel": round(macs_per_pixel(model) / 1e3, 1),
        })
    return rows
