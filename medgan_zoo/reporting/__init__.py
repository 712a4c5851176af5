"""An offline HTML report of trained models: the paper's Fig. 5 (samples beside real slices) and
Fig. 6 (UMAP of U-Net and Inception features) with a two-sample number per panel.

Needs the ``report`` extra (umap-learn, scikit-learn, matplotlib, scipy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import report
    from .twosample import TwoSample, knn_two_sample

_LAZY = {"report": ".build", "knn_two_sample": ".twosample", "TwoSample": ".twosample"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'medgan_zoo.reporting' has no attribute {name!r}")


__all__ = ["TwoSample", "knn_two_sample", "report"]
