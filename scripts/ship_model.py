"""Ship a trained run as a pretrained model of the package, with its measured PSNR.

    python scripts/ship_model.py runs/fastunet-gray fastunet.gray --data ../shared/data/test/BSD68
    python scripts/ship_model.py runs/fastunet-color fastunet.color --data ../shared/data/test/CBSD68 --half
    python scripts/ship_model.py runs/fastunet-color-real fastunet.color-real \
        --pairs ../shared/data/test/Nam25 --blind-level self-calibrated

Evaluates the run's best model on --data at sigma 15, 25 and 50 under the paper protocol
(and, with --pairs, blind on real noisy images against their references: "psnr_real"),
given sigma and blind (sigma estimated), then writes restorekit/weights/NAME.safetensors and
NAME.json: the run's training metadata plus {"psnr": {DATASET: {sigma: dB}}, "psnr_blind": ...};
a run that started from a shipped model keeps that model's training record under
"started_from" (the name may be shipped again, so "init_from" alone would lose it).
The numbers in docs/models.md and `restorekit models` come from here. The run's log.csv is
kept as docs/training/NAME.csv, so that its training curve outlives the run directory
(`scripts/plot_training.py docs/training/NAME.csv`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from restorekit.atomic import atomic_write
from restorekit.evaluate import evaluate
from restorekit.evaluate.benchmark import paired_images
from restorekit.infer.apply import SELF_CALIBRATED
from restorekit.infer.network import NetworkRestorer
from restorekit.io import list_images
from restorekit.models import list_models, load_model, resolve_model_path
from restorekit.models.weights import read_meta, round_weights, save_weights

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "restorekit" / "weights"
CURVES = ROOT / "docs" / "training"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="training run directory (its best.safetensors)")
    parser.add_argument("name", help="shipped name, e.g. fastunet.gray")
    parser.add_argument("--data", help="test folder (BSD68 for gray, CBSD68 for colour): Gaussian noise")
    parser.add_argument("--sigmas", default="15,25,50")
    parser.add_argument("--pairs", help="real noisy/clean pairs (e.g. ../shared/data/test/Nam25), scored blind")
    parser.add_argument("--blind-level", choices=[SELF_CALIBRATED],
                        help="how blind use finds the level: self-calibrated (real-noise models; "
                             "restorekit.infer.apply.calibrated_level) instead of a stored constant")
    parser.add_argument("--last", action="store_true",
                        help="ship the run's last step (last.pt) instead of its best validated weights")
    parser.add_argument("--half", action="store_true",
                        help="store the weights in float16 (half the file; measured after rounding)")
    args = parser.parse_args()
    if not args.data and not args.pairs:
        parser.error("give --data (Gaussian noise) and/or --pairs (real noise)")

    model = load_model(args.run)
    if args.last:
        from restorekit.train.checkpoint import load_checkpoint

        state = load_checkpoint(Path(args.run))
        model.load_state_dict(state.get("ema", state["model"]))  # the weights' average, where the run kept one
        model.meta.setdefault("training", {}).update(step=state["step"], patches_seen=state["step"] *
                                                     state["config"]["batch_size"])
        model.meta.setdefault("validation", {})["psnr"] = _last_validation(Path(args.run) / "log.csv", state["step"])
    parent = model.meta.get("training", {}).get("config", {}).get("init_from")
    if parent in list_models():  # trained on from a shipped model: keep its history, as the name may move on
        shipped = read_meta(resolve_model_path(parent))["training"]
        if shipped.get("config") == model.meta["training"].get("config"):  # this very run, shipped again (--half)
            shipped = shipped.get("started_from")  # its history, not itself
        else:
            shipped = {"name": parent, **shipped}
        if shipped:
            model.meta["training"]["started_from"] = shipped
    if getattr(model, "arch_args", {}).get("rep"):  # trained with re-parameterisable branches:
        model.fold()  # ship the plain network (same outputs, a plain layer's cost)
    dtype = torch.float16 if args.half else None
    if dtype is not None:
        round_weights(model, dtype)  # every figure below is of the weights as stored
    if args.blind_level:
        model.meta.pop("blind_sigma", None)
        model.meta["blind_level"] = args.blind_level
    restorer = NetworkRestorer(model, args.name)
    scores: dict[str, dict[str, float]] = {"psnr": {}, "psnr_blind": {}}
    if args.pairs:
        clean, noisy_dir = paired_images(args.pairs)
        dataset = Path(args.pairs).name
        (noisy, record) = evaluate([restorer], clean, "real", noisy_dir=noisy_dir, dataset=dataset)
        scores["psnr_real"] = {dataset: round(record.psnr, 3), f"{dataset} noisy": round(noisy.psnr, 3)}
        print(f"{args.name} {dataset} (real, blind): {record.psnr:.3f} dB (noisy {noisy.psnr:.3f})", flush=True)
    images = list_images([args.data]) if args.data else []
    dataset = Path(args.data).name if args.data else ""
    for sigma in (args.sigmas.split(",") if args.data else []):
        for mode, key in (("given", "psnr"), ("blind", "psnr_blind")):
            (_, record) = evaluate([restorer], images, f"gaussian:{sigma}",
                                   protocol="paper", sigma=mode, dataset=dataset)
            scores[key].setdefault(dataset, {})[sigma] = round(record.psnr, 3)
            print(f"{args.name} {dataset} sigma {sigma} ({mode}): {record.psnr:.3f} dB", flush=True)
    meta = {k: v for k, v in model.meta.items() if k not in ("arch", "arch_args")}
    meta.update({k: v for k, v in scores.items() if v}, protocol="paper (../shared/data/README.md), 8-bit output")
    path = save_weights(WEIGHTS / f"{args.name}.safetensors", model, meta, dtype=dtype)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    log = Path(args.run) / "log.csv"
    if log.is_file():
        print(f"wrote {atomic_write(CURVES / f'{args.name}.csv', log.read_bytes())}")


def _last_validation(log: Path, step: int) -> float | None:
    """The validation PSNR logged at ``step`` (the run's last), if it validated there."""
    import csv

    if not log.is_file():
        return None
    rows = [r for r in csv.DictReader(log.open()) if int(r["step"]) == step and r.get("val_psnr")]
    return float(rows[-1]["val_psnr"]) if rows else None


if __name__ == "__main__":
    main()
