"""The deblurring table: Levin's 8 kernels x noise 2.55 and 7.65, on Set12 and BSD68.

Methods: plug-and-play HQS with the learned denoiser (``pnp``, the default method), Wiener
with its default balance, Wiener with the balance tuned per case against the clean image
(``wiener-oracle``: the best of 49 balances for each image, kernel and noise; no real
Wiener can do better) and Richardson-Lucy. Protocol of the papers (DPIR, via KAIR), as
``restorekit evaluate`` applies it: the clean image read as 8 bits, circular blur
(``scipy.ndimage.convolve(..., mode="wrap")``), then per image ``RandomState(0)`` Gaussian
noise, no clipping; the output clipped and rounded to 8 bits; PSNR (data range 255) averaged
over images and kernels. The noise level is given to the methods.

The issue's acceptance check (pnp beats the oracle Wiener by >= 2 dB in mean PSNR on Set12's
256x256 images x Levin's kernels at both noise levels) is printed at the end.

    .venv/bin/python scripts/deblur_benchmark.py --datasets Set12,BSD68 \\
        --markdown table.md --json scores.json

pnp takes ~3 s per 481x321 image on one core, so the full BSD68 x 8 kernels x 2 levels is
about 1.5 hours; ``--limit BSD68=20`` keeps the first 20 BSD68 images for a quicker look.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
METHODS = ("pnp", "wiener-oracle", "wiener", "rl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None,
                        help="pnp's denoiser: name, .safetensors, run folder or classical name (default: shipped)")
    parser.add_argument("--datasets", default="Set12", help="comma-separated folders under ../shared/data/test")
    parser.add_argument("--limit", action="append", default=[], metavar="DATASET=N",
                        help="use only the first N images of DATASET (repeatable)")
    parser.add_argument("--kernels", type=Path, default=DATA / "kernels" / "levin09.npz")
    parser.add_argument("--noise", default="2.55,7.65", help="noise levels, 0-255 scale")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {','.join(METHODS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--json", type=Path, help="write every per-image score to this file")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    limits = dict(_limit(text, parser) for text in args.limit)
    levels = [float(v) for v in args.noise.split(",")]
    with np.load(args.kernels) as npz:
        kernel_names = sorted(npz.files)

    from restorekit.atomic import atomic_write
    from restorekit.deblurring.methods import DeblurRestorer
    from restorekit.io import list_images

    pnp = DeblurRestorer("pnp", model=args.model)
    rows = []  # one dict per (dataset, image, kernel, noise, method)
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        images = list_images([DATA / "test" / dataset])[: limits.get(dataset)]
        for level in levels:
            for name in kernel_names:
                rows += run_case(dataset, images, args.kernels, name, level, methods, pnp)
                done = [r for r in rows if r["dataset"] == dataset and r["noise"] == level and r["kernel"] == name]
                means = {m: np.mean([r["psnr"] for r in done if r["method"] == m]) for m in ["noisy", *methods]}
                print(f"{dataset} {name} noise {level}: "
                      + ", ".join(f"{m} {v:.2f}" for m, v in means.items()), flush=True)

    text = report(rows, ["noisy", *methods], kernel_names, levels, args)
    print(text)
    if args.markdown:
        atomic_write(args.markdown, text)
    if args.json:
        atomic_write(args.json, json.dumps(rows, indent=1))


def run_case(dataset, images, kernel_file, kernel_name, level, methods, pnp) -> list[dict]:
    """Every method on every image for one kernel and one noise level."""
    from restorekit.deblurring import deblur
    from restorekit.deblurring.wiener import tuned_wiener
    from restorekit.degradations import load_kernel, paper_degrade
    from restorekit.io import read_image
    from restorekit.metrics import psnr, quantize8

    spec = f"{kernel_file}#{kernel_name}"
    kernel = load_kernel(spec)
    sigma = level / 255
    rows = []
    for path in images:
        clean8 = quantize8(read_image(path)[0])  # the reference, as the papers read it
        clean = clean8.astype(np.float32) / 255
        noisy = paper_degrade(clean, f"blur:{spec}+gaussian:{level}")  # circular, RandomState(0)
        outputs = {"noisy": (noisy, None)}
        for method in methods:
            start = time.perf_counter()
            if method == "pnp":
                out = pnp(noisy, sigma, kernel=kernel, circular=True)
            elif method == "wiener-oracle":
                out, _balance = tuned_wiener(noisy, kernel, clean)
            else:
                out = deblur(noisy, kernel, sigma, method, border="circular")
            outputs[method] = (out, time.perf_counter() - start)
        for method, (out, seconds) in outputs.items():
            rows.append(dict(dataset=dataset, image=path.stem, shape=list(clean8.shape), kernel=kernel_name,
                             noise=level, method=method, seconds=seconds,
                             psnr=float(psnr(clean8, quantize8(out), data_range=255))))
    return rows


def report(rows, methods, kernel_names, levels, args) -> str:
    """Markdown: mean PSNR per dataset and noise; per kernel on each dataset; the acceptance check."""
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))

    def mean(**where):
        values = [r["psnr"] for r in rows if all(r[k] == v for k, v in where.items())]
        return float(np.mean(values)) if values else float("nan")

    def count(dataset):
        return len({r["image"] for r in rows if r["dataset"] == dataset})

    out = [f"Prior of pnp: `{args.model or 'shipped default'}`. Mean PSNR (dB) over images x "
           f"{len(kernel_names)} kernels, circular blur, paper-protocol noise.", ""]
    header = [f"{d} ({count(d)}) σ={lv:g}" for d in datasets for lv in levels]
    out += ["| method | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for m in methods:
        cells = [f"{mean(dataset=d, noise=lv, method=m):.2f}" for d in datasets for lv in levels]
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    for d in datasets:
        for lv in levels:
            out += ["", f"{d}, σ={lv:g}, per kernel:", ""]
            out += ["| method | " + " | ".join(kernel_names) + " |", "|---" * (len(kernel_names) + 1) + "|"]
            for m in methods:
                cells = [f"{mean(dataset=d, noise=lv, method=m, kernel=k):.2f}" for k in kernel_names]
                out.append(f"| {m} | " + " | ".join(cells) + " |")
    if "Set12" in datasets and {"pnp", "wiener-oracle"} <= set(methods):
        out += ["", "Acceptance (issue 6): mean PSNR of pnp minus that of the per-case tuned Wiener, "
                "Set12's 256x256 images x Levin's kernels:", ""]
        small = sorted({r["image"] for r in rows if r["dataset"] == "Set12" and r["shape"][:2] == [256, 256]})
        for label, subset in ((f"first six ({', '.join(small[:6])})", small[:6]), (f"all {len(small)}", small)):
            for lv in [*levels, None]:
                pick = [r for r in rows if r["dataset"] == "Set12" and r["noise"] in ([lv] if lv else levels)
                        and r["image"] in subset]
                gain = (np.mean([r["psnr"] for r in pick if r["method"] == "pnp"])
                        - np.mean([r["psnr"] for r in pick if r["method"] == "wiener-oracle"]))
                noise = f"σ={lv:g}" if lv else "both levels"
                out.append(f"- {label}, {noise}: {gain:+.2f} dB ({'pass' if gain >= 2 else 'FAIL'}, need +2.00)")
    return "\n".join(out) + "\n"


def _limit(text: str, parser) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if not value.isdigit() or int(value) < 1:
        parser.error(f"--limit takes DATASET=N with N >= 1, got {text!r}")
    return name.strip(), int(value)


if __name__ == "__main__":
    main()
