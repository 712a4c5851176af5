"""The ``report`` extra: a clear message when it is not installed."""

from __future__ import annotations

import importlib.util

from ..errors import MedganZooError

MODULES = {"umap": "umap-learn", "sklearn": "scikit-learn", "matplotlib": "matplotlib", "scipy": "scipy"}


def require_report() -> None:
    missing = [package for module, package in MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise MedganZooError(f"the report needs {', '.join(missing)}: pip install 'medgan-zoo[report]'")
