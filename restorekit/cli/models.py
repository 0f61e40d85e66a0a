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
    click.echo(_plain_table(rows))
    if not architectures:
        click.echo("PSNR in dB with sigma given / blind, paper protocol (docs/models.md)")
        for line in _routing_notes():
            click.echo(line)


def _routing_notes() -> list[str]:
    """One line per shipped model that runs as a pair with a low-level partner."""
    from restorekit.infer.network import LOW_LEVEL_MODELS
    from restorekit.models import list_models

    shipped = set(list_models())
    return [f"{name} (by name or as the default): images told a sigma below {below * 255:g} go to {low} instead"
            for name, (low, below) in LOW_LEVEL_MODELS.items() if {name, low} <= shipped]


def _plain_table(rows: list[dict]) -> str:
    """Rows as aligned plain-text columns (numbers right-aligned), never wrapped or cut."""
    keys = list(dict.fromkeys(k for row in rows for k in row))  # every row's columns, in order
    cells = [keys] + [[str(row.get(k, "")) for k in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    numeric = [all(_is_number(r[i]) for r in cells[1:]) for i in range(len(keys))]
    lines = ["  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(line, widths, numeric)).rstrip()
             for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    return bool(text) and all(part.replace(".", "", 1).isdigit() for part in text.split("/"))


def _model_rows() -> list[dict]:
    """One row per shipped model and test set: what it saw, and its PSNR given sigma / blind."""
    from restorekit.models import list_models, resolve_model_path
    from restorekit.models.weights import read_meta

    rows = []
    for name in list_models():
        meta = read_meta(resolve_model_path(name))
        training = meta.get("training", {})
        given = meta.get("psnr", {})  # e.g. {"BSD68": {"15": 31.7, "25": 29.2, "50": 26.2}}
        blind = meta.get("psnr_blind", {})
        real = meta.get("psnr_real", {})  # e.g. {"Nam25": 39.9, "Nam25 noisy": 37.1}
        for dataset, per_sigma in given.items() or ([] if real else [("", {})]):
            row = {
                "name": name,
                "ch": meta["arch_args"].get("channels", 1),
                "trained on": training.get("noise", ""),
                "data": "+".join(d.rstrip("/").split("/")[-1] for d in training.get("data", [])),
                "test set": dataset,
            }
            for sigma, value in per_sigma.items():  # "given / blind" dB at each sigma
                other = blind.get(dataset, {}).get(sigma)
                row[f"σ={sigma}"] = f"{value:.2f}" + (f"/{other:.2f}" if other is not None else "")
            rows.append(row)
        for dataset, value in real.items():
            if not dataset.endswith(" noisy"):
                rows.append({"name": name, "ch": meta["arch_args"].get("channels", 1),
                             "trained on": training.get("noise", ""),
                             "data": "+".join(d.rstrip("/").split("/")[-1] for d in training.get("data", [])),
                             "test set": f"{dataset} (real)",
                             "real, blind": f"{real.get(dataset + ' noisy', float('nan')):.2f} -> {value:.2f}"})
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
