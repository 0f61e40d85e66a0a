"""The comparison figure: the same crop of the clean image, the noisy input and each
method's output, titled with PSNR; one row per (dataset, noise).

matplotlib is imported here only, and drawn through its Agg canvas without pyplot, so that
making a figure neither needs a display nor changes the caller's matplotlib backend.

>>> from restorekit.evaluate.figure import comparison_figure   # doctest: +SKIP
>>> comparison_figure(records, "comparison.png")               # doctest: +SKIP
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from restorekit.atomic import atomic_write
from restorekit.errors import RestorekitError
from restorekit.evaluate.benchmark import NOISY, Record


def detail_crop(image: np.ndarray, size: int) -> tuple[slice, slice]:
    """The ``size`` x ``size`` window (clamped to the image) with the most detail, i.e. the
    largest mean gradient magnitude: flat sky shows nothing of a denoiser, texture does."""
    gray = image.astype(np.float32)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)  # [H, W]
    h, w = gray.shape
    sh, sw = min(size, h), min(size, w)
    grad = np.zeros_like(gray)
    grad[:, :-1] += np.abs(np.diff(gray, axis=1))
    grad[:-1, :] += np.abs(np.diff(gray, axis=0))
    # Summed-area table: the detail of every candidate window in O(1).
    table = np.pad(grad.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    step_y, step_x = max(1, sh // 4), max(1, sw // 4)
    best, best_yx = -1.0, (0, 0)
    for y in range(0, h - sh + 1, step_y):
        for x in range(0, w - sw + 1, step_x):
            total = table[y + sh, x + sw] - table[y, x + sw] - table[y + sh, x] + table[y, x]
            if total > best:
                best, best_yx = total, (y, x)
    y, x = best_yx
    return slice(y, y + sh), slice(x, x + sw)


def _groups(records: Sequence[Record]) -> list[list[Record]]:
    # One figure row per evaluate() call, i.e. per (dataset, noise): a row starts at each
    # noisy record (evaluate puts it first) or where the dataset or noise changes.
    groups: list[list[Record]] = []
    for record in records:
        if record.example is None:
            continue
        last = groups[-1][-1] if groups else None
        if last is None or record.method == NOISY or (last.dataset, last.noise) != (record.dataset, record.noise):
            groups.append([])
        groups[-1].append(record)
    return groups


def comparison_figure(records: Sequence[Record], path: Path | str, *, size: int = 128, dpi: int = 100) -> Path:
    """Draw the records' kept examples (see ``evaluate(example_index=...)``) into a PNG,
    written atomically. Returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = _groups(records)
    if not groups:
        raise RestorekitError("no example images kept for the figure (evaluate with example_index)")
    cols = 1 + max(len(g) for g in groups)  # clean + noisy + methods
    panel = 2.2  # inches per panel
    fig = Figure(figsize=(panel * cols, (panel + 0.45) * len(groups)), dpi=dpi)  # + two title lines
    FigureCanvasAgg(fig)
    axes = np.atleast_2d(fig.subplots(len(groups), cols, squeeze=False))

    for row, group in enumerate(groups):
        example = group[0].example
        ys, xs = detail_crop(example.clean, size)
        label = f"{group[0].dataset}/{example.name}\n{group[0].noise}"  # what this row shows
        panels = [(f"clean: {label}", example.clean)] + [
            (f"{r.method}\n{r.example.psnr:.2f} dB", r.example.image) for r in group
        ]
        for col, ax in enumerate(axes[row]):
            ax.set_axis_off()
            if col >= len(panels):
                continue
            title, image = panels[col]
            crop = image[ys, xs]
            ax.imshow(crop, cmap="gray" if crop.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return atomic_write(path, buffer.getvalue())
