"""What `restorekit.allocator.keep_freed_memory` buys: inference time with and without it.

    python benchmarks/allocator.py              # DnCNN-17, fastunet.gray, fastunet.color; 512x512
    python benchmarks/allocator.py --size 2048 --rounds 3

Each (network, allocator) pair runs in a fresh Python process, as a user's program or the
``restorekit`` command does: one in glibc's default state (``RESTOREKIT_KEEP_FREED=0``) and
one with large blocks served from the heap and freed memory kept (the default of restorekit's
own processes). In each, one warm-up and ``--rounds`` timed denoisings of a noisy skimage
image at sigma 25 (camera for gray, astronaut for colour, tiled up to ``--size``); the median
is printed. The pairs alternate, default first, so both meet the same machine. DnCNN-17 has
random weights (speed does not depend on their values); the FastUNets are the shipped models.
The memory price is measured by ``benchmarks/memory.py``, run once as is and once under
``RESTOREKIT_KEEP_FREED=0``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

NETWORKS = ("dncnn-17", "fastunet.gray", "fastunet.color")


def _child(network: str, size: int, rounds: int, threads: int) -> dict:
    """Time ``rounds`` denoisings in this (fresh) process; report the median and allocator state."""
    from restorekit.allocator import keep_freed_memory

    kept = keep_freed_memory()  # a no-op returning False under RESTOREKIT_KEEP_FREED=0
    import numpy as np
    import torch
    from skimage import data

    from restorekit.degradations import paper_degrade
    from restorekit.infer import denoise
    from restorekit.io import to_float32
    from restorekit.models import create_model, load_model

    torch.set_num_threads(threads)
    if network == "dncnn-17":
        model = create_model("dncnn", channels=1, depth=17)
    else:
        model = load_model(network)
    image = to_float32(data.camera() if model.in_channels == 1 else data.astronaut())
    reps = -(-size // image.shape[0])
    image = np.tile(image, (reps, reps) + (1,) * (image.ndim - 2))[:size, :size]
    noisy = paper_degrade(image, "gaussian:25")
    denoise(noisy, model, 25 / 255)  # warm-up: oneDNN kernel selection
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        denoise(noisy, model, 25 / 255)
        times.append(time.perf_counter() - t)
    return {"kept": kept, "seconds": statistics.median(times)}


def _run_child(network: str, keep: bool, args: argparse.Namespace) -> dict:
    env = dict(os.environ, RESTOREKIT_KEEP_FREED="1" if keep else "0")
    cmd = [sys.executable, __file__, "--child", network, "--size", str(args.size),
           "--rounds", str(args.rounds), "--threads", str(args.threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="square image side (default 512)")
    parser.add_argument("--rounds", type=int, default=5, help="timed denoisings per process (median)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--networks", default=",".join(NETWORKS), help=f"comma-separated, from {NETWORKS}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.size, args.rounds, args.threads)))
        return

    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    unknown = sorted(set(networks) - set(NETWORKS))
    if unknown:
        parser.error(f"unknown network(s) {', '.join(unknown)}; choose from {', '.join(NETWORKS)}")
    print(f"{args.size}x{args.size}, sigma 25, {args.threads} threads, median of {args.rounds} "
          "after a warm-up, one fresh process per cell\n")
    print(f"{'network':<16}{'default (s)':>13}{'kept (s)':>10}{'speed-up':>10}")
    for network in networks:
        default, kept = _run_child(network, False, args), _run_child(network, True, args)
        if default["kept"] or not kept["kept"]:
            print(f"{network:<16}  allocator setting had no effect here (not glibc?)")
            continue
        print(f"{network:<16}{default['seconds']:>13.3f}{kept['seconds']:>10.3f}"
              f"{default['seconds'] / kept['seconds']:>9.2f}x")


if __name__ == "__main__":
    main()
