"""Ship a trained run as a pretrained model of the package, with its measured PSNR.

    python scripts/ship_model.py runs/fastunet-gray fastunet.gray --data ../shared/data/test/BSD68
    python scripts/ship_model.py runs/fastunet-color fastunet.color --data ../shared/data/test/CBSD68

Evaluates the run's best model on --data at sigma 15, 25 and 50 under the paper protocol,
given sigma and blind (sigma estimated), then writes restorekit/weights/NAME.safetensors and
NAME.json: the run's training metadata plus {"psnr": {DATASET: {sigma: dB}}, "psnr_blind": ...}.
The numbers in docs/models.md and `restorekit models` come from here. The run's log.csv is
kept as docs/training/NAME.csv, so that its training curve outlives the run directory
(`scripts/plot_training.py docs/training/NAME.csv`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from restorekit.atomic import atomic_write
from restorekit.evaluate import evaluate
from restorekit.evaluate.benchmark import ModelRestorer
from restorekit.io import list_images
from restorekit.models import load_model
from restorekit.models.weights import save_weights

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "restorekit" / "weights"
CURVES = ROOT / "docs" / "training"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="training run directory (its best.safetensors)")
    parser.add_argument("name", help="shipped name, e.g. fastunet.gray")
    parser.add_argument("--data", required=True, help="test folder (BSD68 for gray, CBSD68 for colour)")
    parser.add_argument("--sigmas", default="15,25,50")
    args = parser.parse_args()

    model = load_model(args.run)
    images = list_images([args.data])
    dataset = Path(args.data).name
    scores: dict[str, dict[str, float]] = {"psnr": {}, "psnr_blind": {}}
    for sigma in args.sigmas.split(","):
        for mode, key in (("given", "psnr"), ("blind", "psnr_blind")):
            (_, record) = evaluate([ModelRestorer(model, args.name)], images, f"gaussian:{sigma}",
                                   protocol="paper", sigma=mode, dataset=dataset)
            scores[key].setdefault(dataset, {})[sigma] = round(record.psnr, 3)
            print(f"{args.name} {dataset} sigma {sigma} ({mode}): {record.psnr:.3f} dB", flush=True)
    meta = {k: v for k, v in model.meta.items() if k not in ("arch", "arch_args")}
    meta.update(scores, protocol="paper (../shared/data/README.md), 8-bit output")
    path = save_weights(WEIGHTS / f"{args.name}.safetensors", model, meta)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    log = Path(args.run) / "log.csv"
    if log.is_file():
        print(f"wrote {atomic_write(CURVES / f'{args.name}.csv', log.read_bytes())}")


if __name__ == "__main__":
    main()
