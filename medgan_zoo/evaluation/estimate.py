"""How long an evaluation will take, from a short timed probe (a few steps of each costly part).

A metric may define ``estimate(probe) -> seconds``; the harness sums them before a paper-scale
evaluation on a CPU and says how to run the quick scale instead. Metrics without it are listed as
not estimated."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Probe:
    """What an estimate may depend on: the evaluation's shape and device."""

    samples: int
    resolution: int
    channels: int
    classes: int
    device: torch.device


def seconds_per_call(call: Callable[[], Any], repeats: int = 2) -> float:
    """Seconds per call: one warm-up call, then the mean of ``repeats`` timed calls."""
    call()
    began = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - began) / repeats


def unet_step_seconds(config, probe: Probe) -> float:
    """Seconds of one training step of the protocol's U-Net with ``config``, on random data."""
    import torch.nn.functional as F

    from .unet import build_unet

    model = build_unet(config, probe.channels, probe.classes).to(probe.device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    x = torch.randn(config.batch_size, probe.channels, probe.resolution, probe.resolution, device=probe.device)
    y = torch.randint(probe.classes, (config.batch_size, probe.resolution, probe.resolution), device=probe.device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return seconds_per_call(step)


def describe(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def estimate_metrics(metrics: dict[str, Any], probe: Probe) -> tuple[float, list[str]]:
    """Total seconds and one phrase per metric (``dice: 3.1 h``, ``prdc: not estimated``)."""
    total, parts = 0.0, []
    for name, metric in metrics.items():
        estimate = getattr(metric, "estimate", None)
        if estimate is None:
            parts.append(f"{name}: not estimated")
            continue
        seconds = float(estimate(probe))
        total += seconds
        parts.append(f"{name}: {describe(seconds)}")
    return total, parts
