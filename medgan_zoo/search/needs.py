"""The ``sweep`` extra: a clear message when it is not installed."""

from __future__ import annotations

import importlib.util

from ..errors import MedganZooError


def require_optuna() -> None:
    missing = [m for m in ("optuna", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise MedganZooError(f"the sweep needs {' and '.join(missing)}: pip install 'medgan-zoo[sweep]'")
