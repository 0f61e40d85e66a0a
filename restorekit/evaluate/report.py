"""Records -> a rich table, Markdown, CSV and JSON. No compute here: only formatting and
atomic writes, so that a report can be remade from a saved JSON without rerunning anything.

>>> from restorekit.evaluate.report import to_markdown, write_report   # doctest: +SKIP
>>> print(to_markdown(records))                                       # doctest: +SKIP
>>> write_report("results.json", records)                              # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from restorekit.atomic import atomic_write
from restorekit.errors import RestorekitError
from restorekit.evaluate.benchmark import NOISY, Record

# The columns of the table, Markdown and CSV, in order: (key, heading).
COLUMNS = (
    ("method", "method"),
    ("dataset", "dataset"),
    ("noise", "noise"),
    ("images", "images"),
    ("psnr", "PSNR (dB)"),
    ("gain", "gain (dB)"),
    ("ssim", "SSIM"),
    ("seconds", "s/image"),
    ("megapixels_per_s", "MP/s"),
)
CSV_FIELDS = (
    "method", "dataset", "noise", "protocol", "sigma", "seed", "crop", "images",
    "psnr", "gain", "ssim", "seconds", "megapixels_per_s",
)


def _gains(records: Sequence[Record]) -> list[float | None]:
    # Gain over the noisy input of the same (dataset, noise): what the method bought.
    base = {(r.dataset, r.noise): r.psnr for r in records if r.method == NOISY}
    return [
        r.psnr - base[(r.dataset, r.noise)]
        if r.method != NOISY and (r.dataset, r.noise) in base else None
        for r in records
    ]


def rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """One flat dict per record (CSV_FIELDS), the gain over the noisy input included."""
    out = []
    for record, gain in zip(records, _gains(records)):
        row = record.to_dict(per_image=False)
        row["gain"] = gain
        out.append({key: row[key] for key in CSV_FIELDS})
    return out


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("psnr", "gain"):
        return f"{value:+.2f}" if key == "gain" else f"{value:.2f}"
    if key == "ssim":
        return f"{value:.4f}"
    if key == "seconds":
        return f"{value:.5f}" if value < 0.01 else (f"{value:.3f}" if value < 10 else f"{value:.1f}")
    if key == "megapixels_per_s":
        return f"{value:.0f}" if value >= 100 else f"{value:#.3g}"  # 6.00, 0.0186, 57.8, 123
    return str(value)


def _table_cells(records: Sequence[Record]) -> tuple[list[str], list[list[str]]]:
    # Dataset and noise columns only where they tell rows apart, to keep the table narrow.
    data = rows(records)
    keep = [
        (key, head) for key, head in COLUMNS
        if key not in ("dataset", "noise") or len({row[key] for row in data}) > 1
    ]
    return [head for _, head in keep], [[_fmt(key, row[key]) for key, _ in keep] for row in data]


def to_table(records: Sequence[Record], title: str | None = None):
    """A ``rich.table.Table`` of the records (print it with a rich Console)."""
    from rich.table import Table

    if title is None and records:
        first = records[0]
        datasets = list(dict.fromkeys(r.dataset for r in records))
        noises = list(dict.fromkeys(r.noise for r in records))
        title = f"{', '.join(datasets)} · {', '.join(noises)} · {first.protocol} protocol" + (
            " · blind" if first.sigma == "blind" else ""
        )
    heads, cells = _table_cells(records)
    table = Table(title=title)
    for head in heads:
        numeric = head not in ("method", "dataset", "noise")
        table.add_column(head, justify="right" if numeric else "left", no_wrap=True)
    for record, row in zip(records, cells):
        table.add_row(*row, style="dim" if record.method == NOISY else None)
    return table


def to_markdown(records: Sequence[Record]) -> str:
    """A GitHub Markdown table, one row per record."""
    heads, cells = _table_cells(records)
    align = ["---" if h in ("method", "dataset", "noise") else "---:" for h in heads]
    lines = ["| " + " | ".join(r) + " |" for r in [heads, align, *cells]]
    return "\n".join(lines) + "\n"


def to_csv(records: Sequence[Record]) -> str:
    """CSV with a header row (CSV_FIELDS); empty cells where a value is undefined."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows(records):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def to_json(records: Sequence[Record], per_image: bool = True) -> str:
    """A JSON list of records: method, dataset, noise, protocol, images, psnr, ssim, seconds,
    ... and, with ``per_image``, the per-image names, PSNRs, SSIMs and times."""
    data = [r.to_dict(per_image=per_image) for r in records]
    for item, gain in zip(data, _gains(records)):
        item["gain"] = gain
    return json.dumps(data, indent=2) + "\n"


def records_from_json(text: str) -> list[Record]:
    """The inverse of ``to_json`` (the ``gain`` field, derived, is dropped)."""
    fields = set(Record.__dataclass_fields__) - {"example"}
    return [Record(**{k: v for k, v in item.items() if k in fields}) for item in json.loads(text)]


FORMATS = {".json": to_json, ".csv": to_csv, ".md": to_markdown, ".markdown": to_markdown}


def write_report(path: Path | str, records: Sequence[Record], fmt: str | None = None) -> Path:
    """Write the records to ``path`` atomically; the format is ``fmt`` (json, csv, markdown)
    or, by default, the file's suffix."""
    path = Path(path)
    key = f".{fmt.lower()}" if fmt else path.suffix.lower()
    if key not in FORMATS:
        raise RestorekitError(f"unknown report format for {path}: use .json, .csv or .md")
    return atomic_write(path, FORMATS[key](records))
