"""Noise identification benchmark: ``python benchmarks/identify.py [--split test|train] [--limit N]``.

Each clean image gets each noise at three levels (and none), with its own seed; the result
is clipped and rounded to 8 bits, as a file holds it, and :func:`restorekit.identify
.identify_noise` names the kind and the level. Prints, measured in this run:

1. the accuracy of the kind, per set and overall, and the confusion matrix;
2. per kind, the fraction of images (of those whose kind is right) whose level is within
   15 % of the truth: the spec's value for gaussian (sigma), saltpepper (amount), speckle
   (sigma) and jpeg (quality); the RMS of the noise actually added (file - clean, 0-255
   scale) for poisson-gaussian and camera, which report an equivalent RMS.

``--split test`` (the default) runs BSD68 (gray) and CBSD68 (colour). The thresholds in
restorekit/identify.py were chosen with ``--split train`` only: Train400 (gray), CBSD432
(colour) and CBSD432 converted to gray (the size of BSD68), never on the test sets.
``--limit N`` takes N images per set, evenly spread; the default (0) takes them all, the
figure of record (about 7 minutes on one CPU core); ``--limit 12`` is a 2-minute sample.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CONDITIONS = (
    [("none", "none", 0.0)]
    + [("gaussian", f"gaussian:{s}", s) for s in (10, 25, 50)]
    + [("poisson-gaussian", f"poisson:{p}+gaussian:5", None) for p in (10, 30, 100)]
    + [("saltpepper", f"saltpepper:{a}", a) for a in (0.02, 0.1, 0.2)]
    + [("speckle", f"speckle:{s}", s) for s in (0.1, 0.2, 0.3)]
    + [("camera", f"camera:{s}", None) for s in (0.001, 0.003, 0.01)]
    + [("jpeg", f"jpeg:{q}", q) for q in (20, 50, 80)]
)
SPLITS = {
    "test": [("BSD68", "test/BSD68", "file"), ("CBSD68", "test/CBSD68", "file")],
    "train": [("Train400", "train/Train400", "file"), ("CBSD432-gray", "train/CBSD432", "gray"),
              ("CBSD432", "train/CBSD432", "file")],
}


def load(folder: Path, mode: str, limit: int, offset: int) -> list[tuple[str, np.ndarray]]:
    """Up to ``limit`` images of ``folder``, evenly spread (``offset`` shifts the pick)."""
    from PIL import Image

    from restorekit.io import list_images, read_image

    paths = list_images([folder])
    if limit:
        step = max(1, len(paths) // limit)
        paths = paths[offset % step :: step][:limit]
    images = []
    for path in paths:
        if mode == "gray":  # ITU-R 601 luma, 8 bits, as a gray file would hold it
            with Image.open(path) as im:
                images.append((path.name, np.asarray(im.convert("L"), dtype=np.float32) / 255))
        else:
            images.append((path.name, read_image(path)[0]))
    return images


def as_file(image: np.ndarray) -> np.ndarray:
    """Clip and round to 8 bits, as restorekit degrade writes it."""
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8).astype(np.float32) / 255


def run(split: str, limit: int) -> list[dict]:
    from restorekit.degradations import degrade
    from restorekit.identify import identify_noise

    records = []
    for name, sub, mode in SPLITS[split]:
        folder = DATA / sub
        if not folder.is_dir():
            raise SystemExit(f"data not found: {folder}")
        images = load(folder, mode, limit, offset=1 if mode == "gray" else 0)  # CBSD432: other images as gray
        for i, (file, clean) in enumerate(images):
            for j, (kind, spec, value) in enumerate(CONDITIONS):
                noisy = as_file(degrade(clean, spec, seed=1000 * i + j))
                truth = value if value is not None else float(np.sqrt(np.mean((noisy - clean) ** 2)) * 255)
                start = time.perf_counter()
                report = identify_noise(noisy)
                records.append({"set": name, "file": file, "spec": spec, "kind": kind, "truth": truth,
                                "found": report.kind, "level": report.level, "seconds": time.perf_counter() - start})
    return records


def summarise(records: list[dict]) -> str:
    from restorekit.identify import KINDS

    lines = []
    for name in dict.fromkeys(r["set"] for r in records):
        rs = [r for r in records if r["set"] == name]
        lines.append(f"{name}: kind right {np.mean([r['found'] == r['kind'] for r in rs]):.1%} of {len(rs)} "
                     f"({len(rs) // len(CONDITIONS)} images x {len(CONDITIONS)} conditions)")
    ok = [r["found"] == r["kind"] for r in records]
    lines.append(f"all: kind right {np.mean(ok):.1%} of {len(records)}; "
                 f"{np.median([r['seconds'] for r in records]):.2f} s per image (median)\n")
    lines.append("| kind | kind right | level within 15 % | median level error |")
    lines.append("| --- | ---: | ---: | ---: |")
    for kind in KINDS:
        rs = [r for r in records if r["kind"] == kind]
        right = [r for r in rs if r["found"] == kind]
        if kind == "none":
            lines.append(f"| none | {len(right) / len(rs):.1%} | | |")
            continue
        err = [abs(r["level"] - r["truth"]) / r["truth"] for r in right]
        within = f"{np.mean(np.array(err) <= 0.15):.1%}" if err else "-"
        median = f"{np.median(err):.1%}" if err else "-"
        lines.append(f"| {kind} | {len(right) / len(rs):.1%} | {within} | {median} |")
    lines.append("\nconfusion (rows: true kind, columns: identified)\n")
    counts = collections.Counter((r["kind"], r["found"]) for r in records)
    short = [k.replace("poisson-gaussian", "poisson-g") for k in KINDS]
    lines.append("| | " + " | ".join(short) + " |")
    lines.append("| --- |" + " ---: |" * len(KINDS))
    for kind, label in zip(KINDS, short):
        lines.append(f"| {label} | " + " | ".join(str(counts[(kind, k)]) for k in KINDS) + " |")
    lines.append("\nper condition (kind right):")
    for spec in dict.fromkeys(r["spec"] for r in records):
        for name in dict.fromkeys(r["set"] for r in records):
            rs = [r for r in records if r["spec"] == spec and r["set"] == name]
            lines.append(f"  {spec:24s} {name:14s} {np.mean([r['found'] == r['kind'] for r in rs]):6.1%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="test")
    parser.add_argument("--limit", type=int, default=0, help="images per set, evenly spread (0: all)")
    args = parser.parse_args()
    start = time.perf_counter()
    records = run(args.split, args.limit)
    print(f"benchmarks/identify.py --split {args.split} --limit {args.limit}: "
          f"{len(records)} identifications in {time.perf_counter() - start:.0f} s\n")
    print(summarise(records))


if __name__ == "__main__":
    main()
