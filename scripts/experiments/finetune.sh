#!/usr/bin/env bash
# Fine-tuning against pretrained-only and against training from scratch (issue 5), on
# noises the shipped Gaussian model never saw: Poisson (peak 10), speckle (0.25) and
# salt-and-pepper (10%, where the classical answer is the median filter).
#
# For each noise, with the same step budget and the same clean images (Train400):
#   pretrained  the shipped fastunet.gray as it is (blind: it estimates a Gaussian level)
#   finetune    restorekit finetune --from fastunet.gray (lr 1e-4, no warm-up)
#   scratch     restorekit train --arch fastunet, the same architecture from random weights
#               (lr 1e-3 with 100 warm-up steps, the from-scratch recipe)
# all evaluated on BSD68 with that noise (random protocol, seed 0: each image its own draw).
#
#   bash scripts/experiments/finetune.sh            # STEPS=1000 by default
#
# Re-running skips finished runs and resumes unfinished ones. Results: $OUT/<noise>.md
set -euo pipefail
RK=${RK:-.venv/bin/restorekit}
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/exp-finetune}
STEPS=${STEPS:-1000}
COMMON=(--data "$DATA/train/Train400" --steps "$STEPS" --batch-size 16 --patch-size 64 --seed 0 --quiet)

run() {  # run DIR COMMAND...: skip when finished, resume when started
  local dir=$1; shift
  grep -q "^$STEPS," "$dir/log.csv" 2>/dev/null && return 0
  local resume=$([ -f "$dir/last.pt" ] && echo --resume || true)
  "$@" --out "$dir" $resume
}

for noise in poisson:10 speckle:0.25 saltpepper:0.1; do
  name=${noise%%:*}
  run "$OUT/$name-finetune" $RK finetune --from fastunet.gray --noise "$noise" "${COMMON[@]}"
  run "$OUT/$name-scratch" $RK train --arch fastunet --noise "$noise" --lr 1e-3 --warmup 100 "${COMMON[@]}"
  extra=$([ "$name" = saltpepper ] && echo "--method median" || true)
  $RK evaluate $extra --model fastunet.gray --model "$OUT/$name-finetune" --model "$OUT/$name-scratch" \
    --data "$DATA/test/BSD68" --noise "$noise" --markdown "$OUT/$name.md" --json "$OUT/$name.json"
done
