"""Building plugin objects by name."""

from __future__ import annotations

from typing import Any

from .registry import get_registry


def create_loss(name: str, **config: Any) -> Any:
    """An adversarial loss or regulariser by registered name, e.g. ``create_loss("hinge")``.

    Unknown names raise with the closest suggestions; unknown or invalid config keys raise a
    :class:`~medgan_zoo.errors.ConfigError` naming the field.
    """
    return get_registry().losses[name].create(**config)
