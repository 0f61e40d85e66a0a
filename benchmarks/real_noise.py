"""Real camera noise with references (Nam et al. 2016): restorekit's choices beside CBM3D.

    python benchmarks/real_noise.py [--pairs ../shared/data/test/Nam25] [--methods ...] [--json out.json]
    python benchmarks/real_noise.py --part 0/2 --json a.json & python benchmarks/real_noise.py --part 1/2 --json b.json
    python benchmarks/real_noise.py --merge a.json b.json        # the table of both halves
    python benchmarks/real_noise.py --gray --methods noisy,bm3d-oracle,gaussian,real,auto   # as gray photos

Per image of ``PAIRS/noisy`` against ``PAIRS/clean`` (8-bit, PSNR with data range 255, as
``restorekit evaluate --pairs``), each method blind unless it says otherwise:

- ``noisy``: the input itself;
- ``cbm3d-blind``: CBM3D told the level the Gaussian estimator reads;
- ``cbm3d-oracle``: CBM3D told each image's true noise level, the standard deviation of
  noisy - clean (an oracle no user has; the issue's reference point);
- ``gaussian``: the shipped Gaussian colour model, blind;
- ``gaussian-pd2``: the same on pixel-shuffled sub-images (``--pd 2``);
- ``real``: the shipped real-noise model on every image, its level self-calibrated;
- ``auto``: ``restorekit denoise`` with no options (identify the noise, pick model and level).

With ``--gray`` both images of each pair are converted to luma (BT.601, as
``restorekit.data.to_channels``): real camera noise as a gray photo holds it, for the gray
models (``bm3d-*`` methods are then BM3D, ``real`` the gray real-noise model).

Nam25 is a test set: nothing in restorekit was tuned on it (docs/realnoise.md). Prints the
mean PSNR per method, the number of images each leaves worse than its input, and time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT.parent / "shared" / "data" / "test" / "Nam25"
METHODS = ("noisy", "cbm3d-blind", "cbm3d-oracle", "gaussian", "gaussian-pd2", "real", "auto")
ALIASES = {"bm3d-blind": "cbm3d-blind", "bm3d-oracle": "cbm3d-oracle"}  # the gray names


def restore(method: str, noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import restorekit as rk
    from restorekit.infer.auto import REAL_MODELS

    channels = 1 if noisy.ndim == 2 else noisy.shape[2]
    method = ALIASES.get(method, method)
    if method == "noisy":
        return noisy
    if method.startswith("cbm3d"):
        bm3d = rk.get_method("bm3d")
        level = float(np.std(noisy - clean)) if method == "cbm3d-oracle" else None
        return bm3d(noisy, level)
    if method == "gaussian":
        return rk.denoise(noisy, rk.default_model(channels))
    if method == "gaussian-pd2":
        return rk.denoise(noisy, rk.default_model(channels), pd=2)
    if method == "real":
        return rk.denoise(noisy, REAL_MODELS[channels])
    if method == "auto":
        return rk.denoise(noisy)
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default=str(PAIRS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--part", default="0/1", help="K/N: only every N-th image from the K-th (to run N processes)")
    parser.add_argument("--gray", action="store_true", help="convert each pair to gray (luma) first")
    parser.add_argument("--json", help="write per-image scores here")
    parser.add_argument("--merge", nargs="+", metavar="JSON", help="print the table of --part runs' JSON files")
    args = parser.parse_args()
    if args.merge:
        return merge(args.merge, Path(args.pairs).name)

    import restorekit as rk
    from restorekit.atomic import atomic_write
    from restorekit.data import to_channels
    from restorekit.evaluate.benchmark import paired_images
    from restorekit.metrics import psnr, quantize8

    clean_paths, noisy_dir = paired_images(args.pairs)
    k, n = (int(v) for v in args.part.split("/"))
    clean_paths = clean_paths[: args.limit][k::n]
    methods = [m for m in args.methods.split(",") if m]
    scores: dict[str, list[float]] = {m: [] for m in methods}
    seconds: dict[str, float] = {m: 0.0 for m in methods}
    for path in clean_paths:
        clean = rk.read_image(path)[0]
        noisy = rk.read_image(noisy_dir / path.name)[0]
        if args.gray:  # to_channels keeps 8-bit steps only to float precision: back onto them
            clean, noisy = (np.round(to_channels(x, 1)[..., 0] * 255) / 255 for x in (clean, noisy))
        for method in methods:
            start = time.perf_counter()
            out = restore(method, noisy, clean)
            seconds[method] += time.perf_counter() - start
            scores[method].append(float(psnr(quantize8(clean), quantize8(out), data_range=255)))
        print(path.name, " ".join(f"{m} {scores[m][-1]:.2f}" for m in methods), flush=True)
    if args.json:
        names = [p.name for p in clean_paths]
        record = {"images": names, "gray": args.gray, "psnr": scores, "seconds": seconds}
        atomic_write(args.json, json.dumps(record, indent=1))
    report(Path(args.pairs).name + (" as gray" if args.gray else ""), len(clean_paths), methods, scores, seconds)


def report(dataset: str, count: int, methods, scores: dict, seconds: dict) -> None:
    base = scores.get("noisy")
    print(f"\n{dataset}, {count} images")
    print(f"{'method':14s} {'PSNR (dB)':>10s} {'worse than input':>17s} {'s/image':>8s}")
    for method in methods:
        worse = "-" if base is None or method == "noisy" else str(sum(a < b for a, b in zip(scores[method], base)))
        print(f"{method:14s} {np.mean(scores[method]):10.2f} {worse:>17s} {seconds[method] / count:8.2f}")


def merge(paths: list[str], dataset: str) -> None:
    """The table of several ``--part`` runs' ``--json`` files together."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    methods = list(parts[0]["psnr"])
    scores = {m: [v for part in parts for v in part["psnr"][m]] for m in methods}
    seconds = {m: sum(part["seconds"][m] for part in parts) for m in methods}
    name = dataset + (" as gray" if parts[0].get("gray") else "")
    report(name, sum(len(part["images"]) for part in parts), methods, scores, seconds)

if __name__ == "__main__":
    main()
