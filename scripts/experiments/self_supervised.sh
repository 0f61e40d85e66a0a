#!/usr/bin/env bash
# Self-supervised denoising from noisy images alone (issue 5): Noise2Void and
# Neighbor2Neighbor trained on noisy Train400 (sigma 25, saved as 8-bit PNG, as a user's
# noisy photos would be), never seeing a clean image; evaluated on BSD68 at sigma 25 under
# the paper protocol. Published reference points: Noise2Void 27.71 dB, BM3D 28.57 dB.
#
#   bash scripts/experiments/self_supervised.sh            # STEPS=4000 by default
#
# Re-running resumes unfinished runs. Results: $OUT/table.md
set -euo pipefail
RK=${RK:-.venv/bin/restorekit}
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/exp-self-supervised}
STEPS=${STEPS:-4000}

[ -d "$OUT/noisy-train400" ] || $RK degrade "$DATA/train/Train400" -o "$OUT/noisy-train400" --noise gaussian:25 --seed 0
for method in neighbor2neighbor n2v; do
  grep -q "^$STEPS," "$OUT/$method/log.csv" 2>/dev/null && continue  # finished
  resume=$([ -f "$OUT/$method/last.pt" ] && echo --resume || true)
  $RK train --self-supervised --method "$method" --arch fastunet --data "$OUT/noisy-train400" \
    --steps "$STEPS" --batch-size 16 --patch-size 64 --lr 1e-3 --warmup 200 --seed 0 --quiet \
    --out "$OUT/$method" $resume
done
$RK evaluate --model "$OUT/neighbor2neighbor" --model "$OUT/n2v" --data "$DATA/test/BSD68" \
  --noise gaussian:25 --protocol paper --markdown "$OUT/table.md" --json "$OUT/table.json"
