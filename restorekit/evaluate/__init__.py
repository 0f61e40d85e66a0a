"""Benchmarks: methods x datasets x degradations -> records (benchmark.py), and records ->
tables, Markdown, CSV, JSON (report.py) and a comparison figure (figure.py).

>>> from restorekit.evaluate import evaluate, resolve_method, to_markdown   # doctest: +SKIP
>>> records = evaluate([resolve_method("nlm")], images, "gaussian:25")      # doctest: +SKIP
>>> print(to_markdown(records))                                            # doctest: +SKIP
"""

from restorekit.evaluate.benchmark import NOISY, Record, evaluate, given_sigma, resolve_method
from restorekit.evaluate.figure import comparison_figure
from restorekit.evaluate.report import to_csv, to_json, to_markdown, to_table, write_report

__all__ = [
    "NOISY", "Record", "comparison_figure", "evaluate", "given_sigma", "resolve_method",
    "to_csv", "to_json", "to_markdown", "to_table", "write_report",
]
