"""Which random stream each draw of a training run takes, by the scheme the run began with.

New runs use :mod:`restorekit.seeds` (``SeedSequence`` of ``(seed, "train", step, rank)``
and so on) and record ``seeds.SCHEME`` in every checkpoint. Checkpoints written before
the scheme was recorded used the arithmetic below; they resume under it, so that their
remaining steps draw exactly the batches an uninterrupted run would have drawn. A
checkpoint naming a scheme this version does not know is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from restorekit import seeds
from restorekit.errors import RestorekitError

LEGACY = "legacy-v0"  # checkpoints without a "seed_scheme" entry
SCHEMES = (seeds.SCHEME, LEGACY)


@dataclass(frozen=True)
class SeedScheme:
    seed: int
    name: str = seeds.SCHEME

    def __post_init__(self):
        if self.name not in SCHEMES:
            raise RestorekitError(f"this checkpoint uses seed scheme {self.name!r}, unknown to this version of "
                                  f"restorekit (known: {', '.join(SCHEMES)}); resume it with the version that wrote it")

    def step(self, step: int, rank: int = 0) -> torch.Generator:
        """The generator of training batch ``step`` on process ``rank``."""
        if self.name == LEGACY:
            return torch.Generator().manual_seed((self.seed * 1_000_003 + step) * 1_009 + rank)
        return seeds.torch_generator(self.seed, "train", step, rank)

    def noise(self, step: int, rank: int, device: torch.device) -> torch.Generator:
        """The generator of batch ``step``'s noise drawn on ``device`` (GPU training)."""
        return seeds.torch_generator(self.seed, "noise", step, rank, device=str(device))

    def blind_sample(self, k: int) -> torch.Generator:
        """The ``k``-th batch drawn to measure a non-Gaussian noise's level (k >= 1)."""
        if self.name == LEGACY:
            return torch.Generator().manual_seed((self.seed * 1_000_003 - k) * 1_009)
        return seeds.torch_generator(self.seed, "blind-sample", k)

    def validation(self, index: int) -> int:
        """The seed of validation image ``index``'s noise (random protocol)."""
        return index if self.name == LEGACY else seeds.derive_seed(self.seed, "val", index)
