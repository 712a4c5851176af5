"""Running under ``torchrun``: the process group, this process's rank, and its device.

``torchrun --nproc-per-node K -m medgan_zoo ...`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
commands that scale out read them here (NCCL on GPUs, gloo on CPUs). Without them nothing changes.
Independent pieces of work (sample batches, feature blocks, U-Nets) are spread over the ranks by
:func:`map_jobs` inside :func:`sharing`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")


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


#: Seconds a collective may wait for the other ranks when they share long jobs (evaluate's U-Nets
#: take hours on CPUs; torch's defaults are 10 minutes with NCCL and 30 with gloo).
TIMEOUT_ENV = "MEDGAN_ZOO_DIST_TIMEOUT"
SHARED_WORK_TIMEOUT = 24 * 3600


def start(device: str | None = None, timeout: float | None = None) -> Ranks:
    """Join the process group (once) and pick this rank's device: ``cuda:LOCAL_RANK`` when CUDA is
    there and no device was given, else the given one or the CPU. ``timeout``: seconds a collective
    may wait (``$MEDGAN_ZOO_DIST_TIMEOUT`` overrides it; None: torch's default)."""
    from datetime import timedelta

    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        chosen = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    else:
        from .device import resolve_device

        chosen = resolve_device(device)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if os.environ.get(TIMEOUT_ENV):
        timeout = float(os.environ[TIMEOUT_ENV])
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo",
                                timeout=timedelta(seconds=timeout) if timeout else None)
    return Ranks(dist.get_rank(), dist.get_world_size(), chosen)


def finish() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# -- sharing independent work (sampling, features, U-Nets) -----------------------------------------

_SHARING = False


@contextmanager
def sharing(on: bool = True) -> Iterator[None]:
    """Inside: :func:`map_jobs` spreads its jobs over the process group's ranks (every rank must
    then make the same calls). ``medgan-zoo evaluate`` under torchrun runs inside it; outside it,
    or without a process group, everything runs in this process. ``sharing(False)`` turns it off
    for work that one rank does alone (a timing probe)."""
    global _SHARING
    before, _SHARING = _SHARING, on
    try:
        yield
    finally:
        _SHARING = before


def share() -> tuple[int, int]:
    """(rank, number of ranks) that :func:`map_jobs` spreads work over now: (0, 1) when not sharing."""
    import torch.distributed as dist

    if not (_SHARING and dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def map_jobs(fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
    """``[fn(job) for job in jobs]``; while sharing, rank r runs jobs r, r + W, ... and every rank
    receives every result in order, the results one process computes (``fn`` must depend on its
    job alone, and return CPU tensors or plain values: results travel between ranks)."""
    rank, world = share()
    if world == 1:
        return [fn(job) for job in jobs]
    import torch.distributed as dist

    mine: dict[int, R] = {}
    failure: Exception | None = None
    for i, job in enumerate(jobs):
        if i % world == rank:
            try:
                mine[i] = fn(job)
            except Exception as exc:  # told to every rank, so none waits for a result that never comes
                failure = exc
                break
    every: list[Any] = [None] * world
    dist.all_gather_object(every, (_describe(failure, rank), mine))
    _raise_any(failure, [message for message, _ in every])
    merged: dict[int, R] = {}
    for _, part in every:
        merged.update(part)
    return [merged[i] for i in range(len(jobs))]


def _describe(failure: Exception | None, rank: int) -> str | None:
    return None if failure is None else f"rank {rank}: {type(failure).__name__}: {failure}"


def _raise_any(mine: Exception | None, messages: list[str | None]) -> None:
    """Re-raise this rank's own failure, or report another rank's in one line."""
    if mine is not None:
        raise mine
    failed = [m for m in messages if m]
    if failed:
        from .errors import MedganZooError

        raise MedganZooError("another rank failed in work shared under torchrun: " + "; ".join(failed))


def map_blocks(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, block: int) -> torch.Tensor:
    """``fn`` over ``x`` in blocks of ``block`` rows, concatenated (on the CPU); while sharing, the
    blocks are spread over the ranks. Fixed blocks: the result does not depend on the number of ranks."""
    starts = list(range(0, len(x), block))
    parts = map_jobs(lambda s: fn(x[s:s + block]).cpu(), starts)
    return torch.cat(parts) if parts else fn(x[:0]).cpu()


def from_rank_zero(fn: Callable[[], R]) -> R:
    """``fn()`` on rank 0 alone while sharing, its result sent to every rank (what must be one
    value everywhere, such as a trained network); ``fn()`` here otherwise."""
    rank, world = share()
    if world == 1:
        return fn()
    import torch.distributed as dist

    failure: Exception | None = None
    value: Any = None
    if rank == 0:
        try:
            value = fn()
        except Exception as exc:  # the other ranks wait in the broadcast: tell them
            failure = exc
    box: list[Any] = [(_describe(failure, 0), value)]
    dist.broadcast_object_list(box, src=0)
    _raise_any(failure, [box[0][0]])
    return box[0][1]


def every_rank(flag: bool) -> bool:
    """True when ``flag`` is true on every rank while sharing (``flag`` itself otherwise): a choice
    that decides whether collectives follow (a cache present on one machine only) is taken jointly."""
    _, world = share()
    if world == 1:
        return flag
    import torch.distributed as dist

    every: list[Any] = [None] * world
    dist.all_gather_object(every, bool(flag))
    return all(every)
