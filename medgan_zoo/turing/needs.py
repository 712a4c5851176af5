"""The ``turing`` extra: a clear message when it is not installed."""

from __future__ import annotations

import importlib.util

from ..errors import MedganZooError

MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "statsmodels": "statsmodels", "matplotlib": "matplotlib"}


def require_turing() -> None:
    missing = [package for module, package in MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise MedganZooError(f"the Turing test needs {', '.join(missing)}: pip install 'medgan-zoo[turing]'")
