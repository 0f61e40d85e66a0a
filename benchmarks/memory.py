"""Memory benchmark: peak RSS of `restorekit denoise` on a large 16-bit RGB TIFF, on CPU.

    python benchmarks/memory.py                      # 4000x3000, blind (--sigma auto)
    python benchmarks/memory.py --size 2000x1500 --sigma 25 --tile 256
    python benchmarks/memory.py --auto               # no model, no sigma: identify the noise, pick both

Writes the image (a smooth pattern plus noise, uint16) to a temp folder and runs the
command in a subprocess, so that the peak resident memory of that process alone is
measured (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, Linux: KiB). The model is the
shipped ``fastunet.color`` when there is one, else a FastUNet of the same default size with
random weights (memory and time do not depend on the weights' values). The target is
"well under 3 GiB" for 4000x3000 (issue 4); the image itself is 72 MB as uint16 and
144 MB as float32 in memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LIMIT_GIB = 3.0


def write_test_image(path: Path, height: int, width: int, seed: int = 0) -> None:
    """A smooth colour pattern plus Gaussian noise (sigma 25 on the 0-255 scale), uint16 RGB."""
    import tifffile

    from restorekit.io import from_float32

    rng = np.random.default_rng(seed)
    yy = np.linspace(0, 12, height, dtype=np.float32)[:, None]
    xx = np.linspace(0, 16, width, dtype=np.float32)[None, :]
    image = np.empty((height, width, 3), np.uint16)
    for c in range(3):  # one channel at a time: keeps this process small too
        plane = 0.5 + 0.3 * np.sin(xx + c) * np.cos(yy - c)
        plane += rng.normal(0, 25 / 255, (height, width)).astype(np.float32)
        image[..., c] = from_float32(plane, np.uint16)  # clipped, rounded half up
    tifffile.imwrite(path, image, photometric="rgb")


def model_argument(folder: Path) -> str:
    """The shipped colour model, or a random-weight FastUNet of the default size saved in ``folder``."""
    from restorekit.models import create_model, list_models
    from restorekit.models.weights import save_weights

    if "fastunet.color" in list_models():
        return "fastunet.color"
    path = save_weights(folder / "fastunet-color-random.safetensors", create_model("fastunet", channels=3),
                        {"note": "random weights, for the memory benchmark only"})
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT (default 4000x3000)")
    parser.add_argument("--sigma", default="auto", help="--sigma for restorekit denoise (default auto: blind)")
    parser.add_argument("--tile", type=int, help="--tile for restorekit denoise (default: automatic)")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the subprocess")
    parser.add_argument("--auto", action="store_true",
                        help="restorekit denoise with no --model or --sigma: noise identification and the "
                             "automatic choice included")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    with tempfile.TemporaryDirectory(prefix="restorekit-memory-") as tmp:
        folder = Path(tmp)
        src, dst = folder / "large.tif", folder / "out" / "large.tif"
        write_test_image(src, height, width)
        model = "automatic (identified noise)" if args.auto else model_argument(folder)
        cmd = [sys.executable, "-m", "restorekit", "denoise", str(src), "-o", str(dst)]
        cmd += [] if args.auto else ["--model", model, "--sigma", args.sigma]
        if args.tile:
            cmd += ["--tile", str(args.tile)]
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        print(f"image: {width}x{height} RGB uint16 TIFF ({src.stat().st_size / 2**20:.0f} MiB on disk)")
        print(f"model: {model}")
        print("command: restorekit " + " ".join(cmd[3:]).replace(tmp, "$TMP"))
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB (Linux)
        if proc.returncode != 0:
            sys.exit(f"restorekit denoise failed ({proc.returncode}):\n{proc.stderr.strip()}")
        import tifffile

        out = tifffile.imread(dst)
        assert out.shape == (height, width, 3) and out.dtype == np.uint16, (out.shape, out.dtype)

    verdict = "OK" if peak_gib < LIMIT_GIB else "OVER"
    print(f"peak RSS: {peak_gib:.2f} GiB ({verdict}, limit {LIMIT_GIB:g} GiB)")
    print(f"time: {seconds:.1f} s ({width * height / 1e6 / seconds:.2f} megapixels/s, "
          "including start-up, reading, blind estimate and writing)")


if __name__ == "__main__":
    main()
