"""Running under ``torchrun``: the process group, this process's rank, and its device.

``torchrun --nproc-per-node K -m medgan_zoo ...`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
commands that scale out read them here (NCCL on GPUs, gloo on CPUs). Without them nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Ranks:
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True under torchrun (even with one process: the distributed path then runs with one rank)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def start(device: str | None = None) -> Ranks:
    """Join the process group (once) and pick this rank's device: ``cuda:LOCAL_RANK`` when CUDA is
    there and no device was given, else the given one or the CPU."""
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        chosen = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    else:
        chosen = torch.device(device)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size(), chosen)


def finish() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
