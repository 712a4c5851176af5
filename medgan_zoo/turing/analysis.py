"""Everything ``turing-test report`` computes from a study's answers, in one dictionary."""

from __future__ import annotations

from typing import Any

from .pooled import pooled
from .stats import agreement, by_confidence, summary


def analyse(rows: list[dict[str, Any]], permutations: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Per rater (:func:`.stats.summary`), pooled (:func:`.pooled.pooled`), agreement and confidence."""
    raters = sorted({r["rater"] for r in rows})
    return {"raters": {name: summary([r for r in rows if r["rater"] == name], seed) for name in raters},
            "pooled": pooled(rows, permutations, seed), "agreement": agreement(rows),
            "confidence": by_confidence(rows)}
