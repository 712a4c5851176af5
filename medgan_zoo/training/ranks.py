"""What the engine does when torchrun starts several processes: the global batch split across ranks,
every optimiser step on gradients averaged over ranks, buffers averaged and weights compared at
checkpoints. A GAN written to the contract needs no distributed code of its own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..errors import ConfigError, MedganZooError


def split_batch(global_batch: int, world: int) -> int:
    """The per-rank batch; refuses a global batch the ranks cannot share evenly."""
    if global_batch % world:
        lower = global_batch - global_batch % world
        legal = [b for b in (lower, lower + world) if b > 0]
        raise ConfigError(f"a global batch of {global_batch} cannot be split evenly over {world} ranks; use "
                          + " or ".join(str(b) for b in legal))
    return global_batch // world


def slice_of(full: Tensor, rank: int, world: int) -> Tensor:
    """This rank's rows of a global batch: ``rank``, ``rank + world``, ... Interleaved rather than
    contiguous so that groups formed by a stride over the batch (StyleGAN2's minibatch-stddev
    groups) hold the same samples on each rank as in one process."""
    return full[rank::world]


def global_apply(fn: Callable[[Tensor], Tensor], rank: int, world: int) -> Callable[[Tensor], Tensor]:
    """Apply a per-sample random transform as if to the global batch: this rank's rows sit at their
    place among zero rows, so every sample gets the parameters it gets in one process."""

    def apply(x: Tensor) -> Tensor:
        full = x.new_zeros((len(x) * world, *x.shape[1:]))
        full[rank::world] = x
        return slice_of(fn(full), rank, world)

    return apply


class _SumOverRanks(torch.autograd.Function):
    """Sum over ranks whose gradient is the sum of the ranks' gradients (itself differentiable, for
    second-order phases); torch's own autograd all-reduce is deprecated in favour of functional
    collectives that need not carry a gradient."""

    @staticmethod
    def forward(ctx: Any, value: Tensor) -> Tensor:
        out = value.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _SumOverRanks.apply(grad.contiguous())


def all_sum(value: Tensor) -> Tensor:
    """The sum over ranks, differentiable (its gradient is the sum of the ranks' gradients)."""
    return _SumOverRanks.apply(value)


def average_gradients(optimizers: dict[str, torch.optim.Optimizer], world: int) -> None:
    """Make every ``step()`` average its parameters' gradients over the ranks first (one all-reduce
    per optimiser step: per network and per phase, second-order phases included)."""
    for optimizer in optimizers.values():
        original = optimizer.step

        def step(*args: Any, _original=original, _optimizer=optimizer, **kwargs: Any):
            grads = [p.grad for group in _optimizer.param_groups for p in group["params"] if p.grad is not None]
            if grads:
                flat = torch.cat([g.reshape(-1).float() for g in grads])
                dist.all_reduce(flat)
                flat /= world
                offset = 0
                for g in grads:
                    g.copy_(flat[offset:offset + g.numel()].view_as(g))
                    offset += g.numel()
            return _original(*args, **kwargs)

        optimizer.step = step  # type: ignore[method-assign]


def mean_over_ranks(values: dict[str, Tensor], world: int) -> dict[str, Tensor]:
    if not values:
        return values
    keys = sorted(values)
    stacked = torch.stack([values[k].detach().float().reshape(()) for k in keys])
    dist.all_reduce(stacked)
    return {k: v / world for k, v in zip(keys, stacked, strict=True)}


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank if it is true on one (a stop or a divergence stops them all together)."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def average_buffers(modules: list[torch.nn.Module], world: int) -> None:
    """Floating buffers (BatchNorm running statistics) become the ranks' mean, identical everywhere."""
    for module in modules:
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer)
                buffer /= world


def check_same(named: dict[str, torch.nn.Module], step: int) -> None:
    """Stop with a clear message if any rank's weights or buffers differ from rank 0's."""
    digest = hashlib.sha256()
    for name, module in sorted(named.items()):
        for key, tensor in sorted(module.state_dict().items()):
            digest.update(f"{name}.{key}".encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
    mine = digest.hexdigest()
    every: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(every, mine)
    different = [r for r, h in enumerate(every) if h != every[0]]
    if different:
        raise MedganZooError(f"at step {step} rank(s) {different} hold other weights than rank 0: the ranks have "
                             "drifted apart (a GAN drawing randomness outside the step context, or a non-parameter "
                             "state kept per rank); the last checkpoint before this one is intact")


def check_same_config(text: str) -> None:
    every: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(every, hashlib.sha256(text.encode()).hexdigest())
    if len(set(every)) > 1:
        raise ConfigError("the ranks were started with different training settings (their config hashes differ): "
                          "start every rank with the same command")
