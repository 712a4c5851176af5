"""The metric contract: what a metric plugin's object is given and what it returns.

A metric plugin registers a :class:`~medgan_zoo.MetricSpec` whose factory takes the validated config
and returns a :class:`Metric`: a callable ``metric(ctx) -> MetricResult``. The spec says the rest:
the direction (``better``), the quick-scale preset (``quick``), whether it runs by default
(``default``, ``available``), its study-table column (``column``) and the settings the study uses
(``study``, ``baseline``). docs/plugins.md has a worked example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from pydantic import BaseModel
from torch import Tensor

from .metric_result import Cell, MetricResult, MetricResultError, as_result


@dataclass
class EvalContext:
    """What a metric is given: the generated samples, the real splits (loaded once, shared by every
    metric), the device, where to write files, and every metric's config at this scale.

    ``real(split)`` returns a :class:`~medgan_zoo.data.slices.SliceDataset` ('train', 'val' or
    'test'); ``eval_split`` names the held-out split a metric scores on ('test' to report, 'val' while
    a search selects models): read ``ctx.real(ctx.eval_split)``, never 'test' by name;
    ``metric_config(name)`` the config of any registered metric at this evaluation's scale with the
    user's settings (a metric may reuse another's settings, as the U-Net feature space does);
    ``reference_unet(config)`` the reference U-Net trained on the real training split (cached)."""

    samples: Any  # medgan_zoo.Samples
    dataset: str
    data_root: Path | None
    resolution: int
    dataset_config: dict[str, Any]
    device: torch.device
    out: Path | None
    configs: dict[str, BaseModel] = field(default_factory=dict)
    scale: str = "quick"
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    eval_split: str = "test"
    _real: dict[str, Any] = field(default_factory=dict)
    _unets: dict[str, Any] = field(default_factory=dict)

    def real(self, split: str):
        if split not in self._real:
            from .factory import load_dataset

            self._real[split] = load_dataset(self.dataset, self.data_root, split, self.resolution,
                                             **self.dataset_config)
        return self._real[split]

    def metric_config(self, name: str, default: type[BaseModel] | None = None) -> BaseModel:
        if name not in self.configs:
            from .registry import get_registry

            if name in get_registry().metrics:
                self.configs[name] = config_at_scale(get_registry().metrics[name], self.scale,
                                                     self.settings.get(name, {}))
            elif default is not None:
                self.configs[name] = default()
            else:
                get_registry().metrics[name]  # raises: unknown metric, with suggestions
        return self.configs[name]

    def map_jobs(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        """``[fn(job) for job in jobs]``, the jobs spread over torchrun's ranks when ``evaluate``
        runs under it (see :func:`medgan_zoo.distributed.map_jobs`); results in order."""
        from .distributed import map_jobs

        return map_jobs(fn, jobs)

    def map_blocks(self, fn: Callable[[Tensor], Tensor], x: Tensor, block: int = 64) -> Tensor:
        """``fn`` over ``x`` in blocks of ``block`` rows (features), spread over the ranks likewise."""
        from .distributed import map_blocks

        return map_blocks(fn, x, block)

    def reference_unet(self, config):
        from .evaluation.reference import ReferenceUnet

        key = config.model_dump_json(exclude={"split"})
        if key not in self._unets:
            self._unets[key] = ReferenceUnet(self.real("train"), config, self.device)
        return self._unets[key]


def config_at_scale(spec, scale: str, settings: dict[str, Any]) -> BaseModel:
    """A metric's config: its quick preset at the quick scale (nothing at the paper scale), then
    the user's settings."""
    return spec.make_config({**(spec.quick if scale == "quick" else {}), **settings})


@runtime_checkable
class Metric(Protocol):
    """A metric plugin's object. ``estimate(probe) -> seconds`` is optional: define it when a
    paper-scale run is long, and the harness says how long before it starts (see
    :class:`medgan_zoo.evaluation.estimate.Probe`)."""

    def __call__(self, ctx: EvalContext) -> MetricResult: ...


__all__ = ["Cell", "EvalContext", "Metric", "MetricResult", "MetricResultError", "as_result", "config_at_scale"]
