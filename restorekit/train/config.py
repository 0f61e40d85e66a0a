"""The training configuration: a frozen dataclass, resolved once and saved in every checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from restorekit.errors import RestorekitError


SCHEDULES = ("cosine", "wsd")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    arch: str
    data: tuple[str, ...]
    out: str
    noise: str = "gaussian:25"
    val: str | None = None
    val_noise: str | None = None  # default: the training noise
    channels: int = 1
    arch_args: dict = field(default_factory=dict)
    steps: int = 1000
    batch_size: int = 16
    patch_size: int = 64
    lr: float = 1e-3
    lr_min: float = 1e-6
    warmup: int = 0  # linear warm-up steps, then the schedule's decay to lr_min at `steps`
    # "cosine": decay over the whole run. "wsd" (warm-up, stable, decay): lr held until the
    # last `decay` fraction of the steps, then a cosine to lr_min; such a run can be extended
    # (--resume with more --steps) as if it had been planned that long (see trainer.extend_from)
    schedule: str = "cosine"
    decay: float = 0.2
    # > 0: keep an exponential moving average of the weights (e.g. 0.999, about the last
    # thousand steps); it is what is validated, saved as best and shipped (train.ema)
    ema: float = 0.0
    loss: str = "l1"
    seed: int = 0
    val_every: int = 500
    save_every: int = 100
    val_limit: int | None = None  # validate on the first N images only
    holdout: int = 0  # without --val: hold out N training images (never trained on) and validate on them
    cache_mb: float = 1024
    device: str = "cpu"
    # The forward pass's arithmetic: "bf16" autocast (weights, gradients, optimizer and
    # validation stay float32), "fp32", or "auto": bf16 on a GPU, fp32 on the CPU
    precision: str = "auto"
    # Start from these weights (fine-tuning), in their architecture; arch_args that ask for
    # more (blocks, widths) grow it first, computing what it did (models.adapt.grow); fewer
    # blocks at a level drop that level's last ones (models.adapt.shrink)
    init_from: str | None = None
    freeze: int = 0  # fine-tuning: keep the first N convolutions fixed
    self_supervised: str | None = None  # None (clean targets), "n2v" or "neighbor2neighbor"

    def __post_init__(self):
        if self.steps < 1 or self.batch_size < 1 or self.patch_size < 8:
            raise RestorekitError("steps and batch size must be >= 1, patch size >= 8")
        if self.channels not in (1, 3):
            raise RestorekitError(f"channels must be 1 or 3, got {self.channels}")
        if self.holdout < 0 or (self.holdout and self.val):
            raise RestorekitError("--holdout N validates on N held-out training images: give it or --val, not both")
        if not 0 < self.lr:
            raise RestorekitError("the learning rate must be positive")
        if self.precision not in PRECISIONS:
            raise RestorekitError(f"unknown precision {self.precision!r}; choose from {', '.join(PRECISIONS)}")
        if self.schedule not in SCHEDULES:
            raise RestorekitError(f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if not 0 <= self.ema < 1:
            raise RestorekitError(f"ema is the weights' average's decay per step, in [0, 1) (0: off), got {self.ema}")
        if not 0 < self.decay <= 1:
            raise RestorekitError(f"decay is the fraction of the steps the learning rate decays over, got {self.decay}")

    @property
    def decay_start(self) -> int:
        """The last step trained at the full learning rate ("wsd"; the warm-up for "cosine")."""
        if self.schedule == "cosine":
            return min(self.warmup, self.steps)
        return max(min(self.warmup, self.steps), self.steps - round(self.decay * self.steps))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a dict; an unknown key is an error, never silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RestorekitError(f"unknown training option(s): {', '.join(unknown)}")
        d = dict(d)
        if "data" in d:
            d["data"] = tuple([d["data"]] if isinstance(d["data"], str) else d["data"])
        try:
            return cls(**d)
        except TypeError as exc:
            raise RestorekitError(f"bad training configuration: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path, **overrides) -> "TrainConfig":
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RestorekitError(f"cannot read config {path}: {exc}") from None
        d.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(d)

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)
