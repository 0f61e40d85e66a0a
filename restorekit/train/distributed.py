"""Data-parallel training with PyTorch's own DDP, started by ``torchrun``.

``torchrun --nproc_per_node=2 -m restorekit train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK;
without them training runs in one process. Gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Dist(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def wrap(model: torch.nn.Module, d: Dist, device: str) -> torch.nn.Module:
    if d.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [d.local_rank] if device.startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=ids)


def mean(value: float, d: Dist, device: torch.device | str = "cpu") -> float:
    """Average a float over ranks (for logging the loss); ``device``: the training device
    (NCCL reduces only tensors on the GPU)."""
    if d.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.item() / d.world


def barrier(d: Dist) -> None:
    if d.world > 1:
        dist.barrier()


def teardown(d: Dist) -> None:
    if d.world > 1 and dist.is_initialized():
        dist.destroy_process_group()
