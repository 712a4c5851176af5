"""The hyper-parameter search of the paper (Table 1, Figs. 3-4) on Optuna studies.

``medgan_zoo.sweep(...)`` runs or joins a study; :func:`status_text`, :func:`write_report` and
:func:`export_best` read one. Needs the ``sweep`` extra (Optuna, matplotlib).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .best import export_best
    from .report import write_report
    from .run import SweepResult, sweep
    from .space import SearchSpace, load_space
    from .status import status_text

_LAZY = {
    "sweep": ".run", "SweepResult": ".run", "load_space": ".space", "SearchSpace": ".space",
    "status_text": ".status", "write_report": ".report", "export_best": ".best",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        from .needs import require_optuna

        require_optuna()
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'medgan_zoo.search' has no attribute {name!r}")


__all__ = ["SearchSpace", "SweepResult", "export_best", "load_space", "status_text", "sweep", "write_report"]
