"""Throughput of `restorekit denoise` on a folder: images per second with 1 and with N workers.

    python benchmarks/throughput.py                        # 24 RGB 256x256 images, 1 and 2 workers
    python benchmarks/throughput.py --images 48 --size 512 --workers 1,2,4 --gray

Makes the images at run time in a temp folder (a smooth pattern plus Gaussian noise of
sigma 25, 8-bit PNG) and times the whole command, as a user runs it, in a fresh process per
setting: Python and torch starting, the shipped default model loading (``fastunet.color``,
or ``fastunet.gray`` with --gray), every file read, denoised and written. One worker uses
every core through torch's threads; N workers get cores // N threads each; a last row times
one worker held to one thread, to tell the gain of processes from that of fewer threads. The
outputs of every setting are compared byte for byte with those of one worker. Figures depend
on what else the machine is doing: run it on an idle one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_images(folder: Path, count: int, size: int, gray: bool, seed: int = 0) -> None:
    from restorekit.io import write_image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    for k in range(count):
        clean = 0.5 + 0.35 * np.sin(xx / (9.0 + k % 7)) * np.cos(yy / (13.0 + k % 5))
        if not gray:
            clean = np.stack([clean, clean[::-1], clean[:, ::-1]], axis=-1)
        noisy = clean + rng.normal(0, 25 / 255, clean.shape)
        write_image(folder / f"img{k:03d}.png", np.clip(noisy, 0, 1).astype(np.float32))


def run(src: Path, out: Path, workers: int, threads: int | None = None) -> float:
    """Seconds for one `restorekit denoise` process, start to exit (``threads``: torch's, via OMP_NUM_THREADS)."""
    command = [sys.executable, "-m", "restorekit", "denoise", str(src), "-o", str(out), "--sigma", "25",
               "--workers", str(workers)]
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--size", type=int, default=256, help="side of the square images")
    parser.add_argument("--workers", default="1,2", help="comma-separated settings to time")
    parser.add_argument("--gray", action="store_true", help="gray images (fastunet.gray) instead of RGB")
    args = parser.parse_args(argv)
    settings = [int(w) for w in args.workers.split(",")]

    import torch

    from restorekit.parallel import cores

    kind = "gray" if args.gray else "RGB"
    model = "fastunet.gray" if args.gray else "fastunet.color"
    print(f"throughput: {args.images} {kind} {args.size}x{args.size} images, {model}, sigma 25, "
          f"{cores()} cores, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        make_images(src, args.images, args.size, args.gray)
        # untimed: the first process to load torch and the model reads them from disk, the others from cache
        warm = f"from restorekit.infer import resolve_network; resolve_network({model!r})"
        subprocess.run([sys.executable, "-c", warm], check=True)
        rates, outputs = {}, {}
        for workers in settings:
            out = Path(tmp) / f"out{workers}"
            seconds = run(src, out, workers)
            rates[workers] = args.images / seconds
            outputs[workers] = {p.name: p.read_bytes() for p in out.iterdir()}
            threads = max(1, cores() // workers) if workers > 1 else torch.get_num_threads()
            each = f"{threads} torch thread{'s' if threads != 1 else ''}" + (" each" if workers > 1 else "")
            print(f"workers {workers}: {args.images} images in {seconds:.1f} s = "
                  f"{rates[workers]:.2f} images/s ({each})")
        if cores() > 1:  # how much of the gain is processes rather than fewer threads
            seconds = run(src, Path(tmp) / "one-thread", 1, threads=1)
            print(f"workers 1 (OMP_NUM_THREADS=1): {args.images} images in {seconds:.1f} s = "
                  f"{args.images / seconds:.2f} images/s (1 torch thread)")
        base = settings[0]
        for workers in settings[1:]:
            same = "identical" if outputs[workers] == outputs[base] else "DIFFERENT"
            print(f"ratio {workers}/{base} workers: {rates[workers] / rates[base]:.2f}x; outputs {same}")


if __name__ == "__main__":
    main()
