"""Speed benchmark: `make bench` (or `python benchmarks/run.py`).

Prints, measured in this run on this machine:
1. every registered architecture (default size, gray): parameters, multiply-adds per pixel,
   training throughput (patches/s, forward + backward + Adam step; in float32 and with the
   forward pass in bf16, ``restorekit train --precision bf16``) and inference speed;
2. every shipped model beside the 17-layer DnCNN and BM3D (CBM3D) on the same 512x512 gray
   (colour) image, given sigma and blind, with the time ratio against DnCNN-17; and as
   self-ensembles of 2 and 8 flips/rotations (``--ensemble``), given sigma.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def _timeit(fn, repeat: int) -> float:
    fn()  # warm-up (allocations, oneDNN kernel selection)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_architectures(repeat: int, patch: int, batch: int) -> list[dict]:
    from restorekit.models import create_model, list_architectures
    from restorekit.models.complexity import macs_per_pixel, parameters

    rows = []
    for name in list_architectures():
        model = create_model(name, channels=1).to(memory_format=torch.channels_last)  # as restorekit train
        cond = getattr(model, "conditioned", False)
        x = torch.rand(batch, 1, patch, patch)
        sigma = torch.full((batch,), 25 / 255)
        opt = torch.optim.Adam(model.parameters(), 1e-4)

        def step(bf16=False):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # restorekit train --precision bf16
                y = model(x, sigma) if cond else model(x)
            loss = (y.float() - x).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        model.train()
        t_train = _timeit(step, repeat)
        t_train_bf16 = _timeit(lambda: step(bf16=True), repeat)
        model.eval()
        image = torch.rand(1, 1, 512, 512)
        s1 = torch.full((1,), 25 / 255)
        with torch.inference_mode():
            t_inf = _timeit(lambda: model(image, s1) if cond else model(image), repeat)
        rows.append({
            "architecture": name, "params_M": parameters(model) / 1e6, "kmacs_per_px": macs_per_pixel(model) / 1e3,
            "train_patches_per_s": batch / t_train, "train_patches_per_s_bf16": batch / t_train_bf16,
            "infer_s_512": t_inf, "infer_mpx_per_s": 512 * 512 / t_inf / 1e6,
        })
    return rows


def bench_restorers(rounds: int, channels: int) -> list[dict]:
    """Shipped models for ``channels`` beside DnCNN-17 and (C)BM3D on one 512x512 image."""
    from skimage import data

    from restorekit.classical import get_method
    from restorekit.degradations import paper_degrade
    from restorekit.infer import denoise
    from restorekit.io import to_float32
    from restorekit.models import create_model, list_models, load_model

    # 512x512, both inside scikit-image's wheel: camera (gray), astronaut (colour)
    image = to_float32(data.camera() if channels == 1 else data.astronaut())
    noisy = paper_degrade(image, "gaussian:25")  # float32, unclipped, as the published tables
    sigma = 25 / 255
    # speed only: random weights suffice; channels-last, as load_model gives every model
    dncnn = create_model("dncnn", channels=channels, depth=17).to(memory_format=torch.channels_last)
    methods = {"dncnn-17 (reference)": lambda: denoise(noisy, dncnn, sigma)}
    for name in list_models():
        model = load_model(name)
        if model.in_channels == channels:
            methods[name] = lambda m=model: denoise(noisy, m, sigma)
            methods[f"{name} (blind)"] = lambda m=model: denoise(noisy, m, None)
            for n in (2, 8):
                methods[f"{name} x{n}"] = lambda m=model, n=n: denoise(noisy, m, sigma, ensemble=n)
    bm3d = get_method("bm3d")  # CBM3D on colour
    methods["bm3d" if channels == 1 else "cbm3d"] = lambda: bm3d(noisy, sigma)
    # In rounds, every method once per round, the reference first: a method's ratio is taken
    # against the reference's time in the same round (the median over rounds is printed), so
    # that both meet the same state of a machine whose speed drifts (a shared VM: the
    # reference took 1.6 s in one minute and 3.3 s in another).
    ref_name = next(iter(methods))
    slow = {name for name in methods if "bm3d" in name}
    times = {name: [] for name in methods}
    ratios = {name: [] for name in methods}
    for name, fn in methods.items():
        if name not in slow:
            fn()  # warm-up (allocations, oneDNN kernel selection)
    for round_ in range(rounds):
        for name, fn in methods.items():
            if name in slow and round_ > 0:
                continue  # once is enough for the seconds-long classical method
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
            ratios[name].append(times[name][-1] / times[ref_name][-1])
    rows = []
    for name, ts in times.items():
        t = statistics.median(ts)
        rows.append({"method": name, "seconds_512": t, "mpx_per_s": 512 * 512 / t / 1e6,
                     "time_vs_dncnn17": statistics.median(ratios[name])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=int, default=3, help="timings per architecture (median)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the restorer timings (median)")
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # As the restorekit command does. Without it DnCNN-17's 67 MB activations are fetched from
    # the kernel afresh, page faults and all, layer by layer, and its time depends on what ran
    # before in the process (benchmarks/allocator.py measures the difference).
    from restorekit.allocator import keep_freed_memory

    allocator = "large blocks kept for reuse" if keep_freed_memory() else "the C library's default allocator"
    print(f"torch {torch.__version__}, {args.threads} threads, {allocator}\n")

    archs = bench_architectures(args.repeat, args.patch, args.batch)
    print(f"Architectures (gray, default size; training on {args.batch}x{args.patch}x{args.patch} batches):")
    print(f"{'architecture':<14}{'params (M)':>11}{'kMAC/px':>10}{'train patch/s':>15}{'bf16 patch/s':>14}"
          f"{'512x512 (s)':>13}{'Mpx/s':>8}")
    for r in archs:
        print(f"{r['architecture']:<14}{r['params_M']:>11.2f}{r['kmacs_per_px']:>10.1f}{r['train_patches_per_s']:>15.1f}"
              f"{r['train_patches_per_s_bf16']:>14.1f}{r['infer_s_512']:>13.3f}{r['infer_mpx_per_s']:>8.2f}")

    restorers = {}
    for channels, what in ((1, "gray (skimage camera)"), (3, "colour (skimage astronaut)")):
        rows = restorers[what] = bench_restorers(args.rounds, channels)
        print(f"\nDenoising one 512x512 {what} image, sigma 25:")
        print(f"{'method':<28}{'seconds':>9}{'Mpx/s':>8}{'time / DnCNN-17':>17}")
        for r in rows:
            print(f"{r['method']:<28}{r['seconds_512']:>9.3f}{r['mpx_per_s']:>8.2f}{r['time_vs_dncnn17']:>17.2f}")
    if args.json:
        from restorekit.atomic import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps({"threads": args.threads, "architectures": archs, "restorers": restorers}, indent=2))

if __name__ == "__main__":
    main()
