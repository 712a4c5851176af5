"""The statistics reviewers ask of a reader study: per rater and pooled accuracy, sensitivity and
specificity (generated = positive) with Wilson intervals, an exact binomial test against 50%,
Fleiss' kappa across raters, Cohen's kappa per pair (statsmodels), and confidence against
correctness."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np


def proportion(successes: int, n: int, confidence: float = 0.95) -> dict[str, Any]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return {"value": successes / n, "low": float(low), "high": float(high), "n": n}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, sensitivity, specificity of one rater's (or the pooled) answers."""
    from scipy.stats import binomtest

    truth = np.array([r["truth"] == "generated" for r in rows], dtype=bool)
    said = np.array([r["answer"] == "generated" for r in rows], dtype=bool)
    correct = int((truth == said).sum())
    out = {"answers": len(rows), "accuracy": proportion(correct, len(rows)),
           "sensitivity": proportion(int((said & truth).sum()), int(truth.sum())),
           "specificity": proportion(int((~said & ~truth).sum()), int((~truth).sum())),
           "p_value": float(binomtest(correct, len(rows), 0.5).pvalue) if rows else None}
    times = [r["milliseconds"] for r in rows]
    out["median_seconds"] = float(np.median(times)) / 1000 if times else None
    return out


def agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fleiss' kappa over the images every rater answered, and Cohen's kappa for each pair."""
    from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

    raters = sorted({r["rater"] for r in rows})
    said = {(r["rater"], r["image"]): int(r["answer"] == "generated") for r in rows}
    images = sorted({r["image"] for r in rows if all((name, r["image"]) in said for name in raters)})
    out: dict[str, Any] = {"images_rated_by_all": len(images), "fleiss_kappa": None, "cohen_kappa": {}}
    if len(raters) >= 2 and images:
        matrix = np.array([[said[(name, image)] for name in raters] for image in images])
        table, _ = aggregate_raters(matrix, n_cat=2)
        out["fleiss_kappa"] = float(fleiss_kappa(table, method="fleiss"))
        for a, b in itertools.combinations(range(len(raters)), 2):
            pair = np.zeros((2, 2))
            for x, y in zip(matrix[:, a], matrix[:, b], strict=True):
                pair[x, y] += 1
            out["cohen_kappa"][f"{raters[a]} / {raters[b]}"] = float(cohens_kappa(pair).kappa)
    return out


def by_confidence(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Accuracy at each confidence level (1: a guess, 5: certain)."""
    out = {}
    for level in range(1, 6):
        picked = [r for r in rows if r.get("confidence") == level]
        out[level] = proportion(sum(r["truth"] == r["answer"] for r in picked), len(picked))
    return out


def analyse(rows: list[dict[str, Any]]) -> dict[str, Any]:
    raters = sorted({r["rater"] for r in rows})
    return {"raters": {name: summary([r for r in rows if r["rater"] == name]) for name in raters},
            "pooled": summary(rows), "agreement": agreement(rows), "confidence": by_confidence(rows)}
