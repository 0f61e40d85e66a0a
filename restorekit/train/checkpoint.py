"""Checkpoints that describe themselves, written atomically (temp file, then rename).

``last.pt`` holds everything needed to resume exactly: model and optimizer state (and the
weights' moving average, where the run keeps one), the step, the best validation score and
the resolved config. It is saved with ``torch.save`` and read back with
``weights_only=True`` (it holds only tensors and plain Python values).
"""

from __future__ import annotations

from pathlib import Path

import torch

from restorekit.atomic import atomic_path
from restorekit.errors import RestorekitError

LAST = "last.pt"
STABLE = "stable.pt"  # a "wsd" run's state where its learning rate began to decay


def save_checkpoint(rundir: Path, *, model, optimizer, step: int, best: float, config: dict,
                    seed_scheme: str, ema=None, name: str = LAST) -> Path:
    state = {
        "model": model.state_dict(),
        "arch": model.arch,
        "arch_args": model.arch_args,
        "optimizer": optimizer.state_dict(),
        "step": step,
        "best": best,
        "config": config,
        "seed_scheme": seed_scheme,  # restorekit.train.seeding: which stream each batch took
    }
    if ema is not None:  # a restorekit.train.ema.EmaWeights: the weights' moving average
        state["ema"] = ema.state_dict()
    path = Path(rundir) / name
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(rundir: Path, name: str = LAST) -> dict:
    path = Path(rundir) / name
    if not path.exists():
        raise RestorekitError(f"nothing to resume: {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise RestorekitError(f"cannot read checkpoint {path}: {exc}") from None
