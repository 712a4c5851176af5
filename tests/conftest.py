from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medgan_zoo.registry import PluginSource, Registry

# The tutorial's plugin project: its own tests run in a subprocess with it on the path.
collect_ignore = ["plugin_example"]

TESTS = Path(__file__).parent
EXAMPLE_PLUGIN = TESTS / "plugin_example"


@pytest.fixture
def load() -> Callable[..., Registry]:
    """Build a registry from (plugin, distribution[, version]) tuples, nothing installed."""

    def _load(*plugins: tuple) -> Registry:
        sources = []
        for item in plugins:
            plugin, dist, *rest = item
            sources.append(PluginSource.of(plugin, dist, rest[0] if rest else "1.0"))
        return Registry.load(sources)

    return _load

