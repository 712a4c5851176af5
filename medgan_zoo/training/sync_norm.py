"""Batch norms that normalise with the global batch's statistics under torchrun.

``torch.nn.SyncBatchNorm`` does this on GPUs only; the same computation here runs on any backend
(gloo on CPUs, NCCL on GPUs) through a differentiable all-reduce, so the CPU tests check the path
GPUs take. Each layer keeps its class's state-dict keys: checkpoints and
model files are those of one process.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .ranks import all_sum


class GlobalBatchStats:
    """Mixed into a batch-norm class: in training on several ranks, mean and variance come from
    every rank's share of the batch (two all-reduces: the sums, then the squared deviations)."""

    def forward(self, x: Tensor) -> Tensor:
        bn: nn.modules.batchnorm._BatchNorm = self  # type: ignore[assignment]
        if not (bn.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)  # type: ignore[misc]
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        xf = x.float()
        count = xf.numel() // xf.shape[1] * dist.get_world_size()
        mean = all_sum(xf.sum(dims)) / count
        centred = xf - mean.view(shape)
        var = all_sum(centred.square().sum(dims)) / count
        out = centred * torch.rsqrt(var + bn.eps).view(shape)
        if bn.affine:
            out = out * bn.weight.view(shape) + bn.bias.view(shape)
        if bn.track_running_stats:
            with torch.no_grad():
                assert bn.num_batches_tracked is not None and bn.running_mean is not None
                bn.num_batches_tracked.add_(1)
                factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
                bn.running_mean.lerp_(mean.detach(), factor)
                assert bn.running_var is not None
                bn.running_var.lerp_(var.detach() * count / max(count - 1, 1), factor)
        return out.to(x.dtype)


_CLASSES: dict[type, type] = {}


def synchronise_batch_norms(module: nn.Module) -> int:
    """Give every batch norm in ``module`` global statistics (in place: the same parameters, so
    optimisers keep them); returns how many layers changed."""
    changed = 0
    for layer in module.modules():
        cls = type(layer)
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and not isinstance(layer, GlobalBatchStats) \
                and not isinstance(layer, nn.SyncBatchNorm):
            if cls not in _CLASSES:
                _CLASSES[cls] = type(f"Global{cls.__name__}", (GlobalBatchStats, cls), {})
            layer.__class__ = _CLASSES[cls]
            changed += 1
    return changed
