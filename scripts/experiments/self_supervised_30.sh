#!/usr/bin/env bash
# Self-supervised training on a small set of noisy images alone (issue 5's check): 30
# Train400 images with Gaussian noise of sigma 25, saved as 8-bit PNGs (what a user's noisy
# files are); Neighbor2Neighbor for 400 steps on those files only; then the same files
# denoised by the model, and PSNR against the clean originals, which only this scoring step
# reads.
#
#   bash scripts/experiments/self_supervised_30.sh        # about 3 minutes on two cores
set -euo pipefail
RK=${RK:-.venv/bin/restorekit}
PY=${PY:-.venv/bin/python}
CLEAN=${CLEAN:-../shared/data/train/Train400}
OUT=${OUT:-runs/exp-ss30}
METHOD=${METHOD:-neighbor2neighbor}

mapfile -t files < <(ls "$CLEAN"/*.png | sort | head -30)
[ -d "$OUT/noisy" ] || $RK degrade "${files[@]}" -o "$OUT/noisy" --noise gaussian:25 --seed 0
[ -f "$OUT/$METHOD/best.safetensors" ] || $RK train --self-supervised --method "$METHOD" --arch fastunet \
  --data "$OUT/noisy" --steps 400 --batch-size 16 --patch-size 64 --lr 1e-3 --warmup 50 --seed 0 --quiet \
  --out "$OUT/$METHOD"
$RK denoise "$OUT/noisy" -o "$OUT/restored-$METHOD" --model "$OUT/$METHOD" --overwrite
$PY - "$CLEAN" "$OUT/noisy" "$OUT/restored-$METHOD" <<'EOF'
import sys
from pathlib import Path

import numpy as np

from restorekit.io import read_image
from restorekit.metrics import psnr

clean_dir, noisy_dir, restored_dir = map(Path, sys.argv[1:])
scores = {"noisy": [], "restored": []}
for noisy in sorted(noisy_dir.glob("*.png")):
    clean = read_image(clean_dir / noisy.name)[0]
    scores["noisy"].append(psnr(clean, read_image(noisy)[0], data_range=1))
    scores["restored"].append(psnr(clean, read_image(restored_dir / noisy.name)[0], data_range=1))
noisy, restored = (float(np.mean(v)) for v in scores.values())
print(f"{len(scores['noisy'])} images: noisy {noisy:.2f} dB, restored {restored:.2f} dB, gain {restored - noisy:+.2f} dB")
EOF
