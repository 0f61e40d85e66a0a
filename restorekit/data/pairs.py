"""Clean -> degraded training pairs, made on the fly and seeded per step.

The batch of step ``t`` depends only on (seed, t, rank): a run killed at step t and resumed
sees exactly the batches it would have seen, and each DDP rank sees different ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from restorekit.data.patches import random_patches


@dataclass(frozen=True)
class Batch:
    clean: torch.Tensor  # [B, C, P, P]
    noisy: torch.Tensor  # [B, C, P, P], not clipped
    sigma: torch.Tensor  # [B] noise level on the [0, 1] scale

    def to(self, device) -> "Batch":
        return Batch(self.clean.to(device), self.noisy.to(device), self.sigma.to(device))


def make_batch(images, degradation, *, batch_size: int, patch_size: int, generator: torch.Generator,
               image_sigma=None, device: torch.device | str | None = None,
               noise_generator: torch.Generator | None = None) -> Batch:
    """Random patches and their degraded versions for one training step.

    For self-supervised training the images are already noisy: ``image_sigma(index)`` then
    gives each image's (estimated) noise level, which replaces the degradation's own where
    the degradation adds no noise. With ``device``, the patches move there before they are
    degraded, and the noise is drawn there from ``noise_generator`` (a generator on that
    device): on a GPU, drawing millions of noise samples per step on the CPU would starve it.
    """
    clean, picks = random_patches(images, batch_size, patch_size, generator, return_indices=True)
    if device is not None:
        clean = clean.to(device, non_blocking=True)
    degraded = degradation(clean, noise_generator or generator)
    sigma = degraded.sigma
    if image_sigma is not None and not degradation.noise:
        sigma = torch.tensor([image_sigma(i) for i in picks], dtype=clean.dtype, device=clean.device)
    return Batch(clean=clean, noisy=degraded.image, sigma=sigma)
