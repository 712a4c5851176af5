"""The hooks a medgan-zoo plugin implements.

A plugin is a module (or object) named by an entry point in the ``medgan_zoo`` group. It implements
any of the hooks below with the :data:`medgan_zoo.hookimpl` marker; each hook receives a ``register``
callback bound to that plugin, to be called once per spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .specs import CallbackSpec, DatasetSpec, GanSpec, LossSpec, MetricSpec

PROJECT_NAME = "medgan_zoo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[[Any], None]
#: The ``register`` each hook receives: its spec type, or a mapping of that spec's fields.
RegisterGan = Callable[["GanSpec | Mapping[str, Any]"], None]
RegisterLoss = Callable[["LossSpec | Mapping[str, Any]"], None]
RegisterDataset = Callable[["DatasetSpec | Mapping[str, Any]"], None]
RegisterMetric = Callable[["MetricSpec | Mapping[str, Any]"], None]
RegisterCallback = Callable[["CallbackSpec | Mapping[str, Any]"], None]


@hookspec
def register_gans(register: RegisterGan) -> None:
    """Register GAN architectures: call ``register(GanSpec(...))`` once per GAN."""


@hookspec
def register_losses(register: RegisterLoss) -> None:
    """Register adversarial losses and regularisers: ``register(LossSpec(...))``."""


@hookspec
def register_datasets(register: RegisterDataset) -> None:
    """Register datasets (real loaders or phantom generators): ``register(DatasetSpec(...))``."""


@hookspec
def register_metrics(register: RegisterMetric) -> None:
    """Register evaluation metrics: ``register(MetricSpec(...))``."""


@hookspec
def register_callbacks(register: RegisterCallback) -> None:
    """Register training callbacks: ``register(CallbackSpec(...))``; a run adds one when named."""
