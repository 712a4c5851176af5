"""The hooks a medgan-zoo plugin implements.

A plugin is a module (or object) named by an entry point in the ``medgan_zoo`` group. It implements
any of the hooks below with the :data:`medgan_zoo.hookimpl` marker; each hook receives a ``register``
callback bound to that plugin, to be called once per spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "medgan_zoo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[[Any], None]


@hookspec
def register_gans(register: Register) -> None:
    """Register GAN architectures: call ``register(GanSpec(...))`` once per GAN."""


@hookspec
def register_losses(register: Register) -> None:
    """Register adversarial losses and regularisers: ``register(LossSpec(...))``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets (real loaders or phantom generators): ``register(DatasetSpec(...))``."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register evaluation metrics: ``register(MetricSpec(...))``."""
