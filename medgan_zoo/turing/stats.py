"""The statistics of a reader study (docs/turing-test.md). Generated = positive.

Per rater: sensitivity and specificity with Wilson intervals, the balanced accuracy (their mean:
0.5 for a rater whose answers do not depend on the truth, whatever the share of real images) with a
bootstrap interval over that rater's images, and Fisher's exact two-sided test of the 2x2 table
(answer x truth): its null is "the answers do not depend on the truth", so a rater who always says
"real" gets p = 1, and a rater who reliably swaps the labels is reported as telling them apart,
inverted. The paper's plain accuracy stays beside them, labelled as such.

Pooled over raters (:mod:`.pooled`): the mean balanced accuracy, its p-value from permuting the
images' truth labels once for all raters, its interval from a bootstrap over images: one image seen
by four raters is one unit, not four. Agreement: Fleiss' kappa (raters interchangeable) and Cohen's
kappa per pair (statsmodels); accuracy against confidence.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

ALPHA = 0.05


def proportion(successes: int, n: int, confidence: float = 0.95) -> dict[str, Any]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return {"value": successes / n, "low": float(low), "high": float(high), "n": n}


def balanced_accuracy(truth: np.ndarray, said: np.ndarray) -> float | None:
    """(sensitivity + specificity) / 2; None when either class is absent."""
    if truth.all() or not truth.any():
        return None
    return 0.5 * (float(said[truth].mean()) + float((~said[~truth]).mean()))


def bootstrap_interval(truth: np.ndarray, said: np.ndarray, seed: int = 0, count: int = 2000,
                       confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Percentile interval of the balanced accuracy, the images resampled within each truth class."""
    if truth.all() or not truth.any():
        return None, None
    rng = np.random.default_rng(seed)
    generated, real = said[truth], ~said[~truth]
    sens = generated[rng.integers(0, len(generated), (count, len(generated)))].mean(axis=1)
    spec = real[rng.integers(0, len(real), (count, len(real)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(0.5 * (sens + spec), [tail, 1 - tail])
    return float(low), float(high)


def verdict(balanced: float | None, p_value: float | None, alpha: float = ALPHA) -> str:
    """Words for a rater's (or the pooled) result."""
    if balanced is None or p_value is None:
        return "not testable (only one kind of image answered)"
    if p_value > alpha:
        return "no evidence of telling real from generated"
    if balanced > 0.5:
        return "tells them apart"
    return "tells them apart, inverted (calls real images generated and generated ones real)"


def summary(rows: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """One rater's answers: the paper's accuracy, sensitivity, specificity, balanced accuracy,
    Fisher's exact test and its verdict."""
    from scipy.stats import fisher_exact

    truth = np.array([r["truth"] == "generated" for r in rows], dtype=bool)
    said = np.array([r["answer"] == "generated" for r in rows], dtype=bool)
    correct = int((truth == said).sum())
    balanced = balanced_accuracy(truth, said)
    low, high = bootstrap_interval(truth, said, seed)
    p_value = None
    if balanced is not None:
        table = [[int((said & truth).sum()), int((~said & truth).sum())],
                 [int((said & ~truth).sum()), int((~said & ~truth).sum())]]
        p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
    out = {"answers": len(rows), "accuracy": proportion(correct, len(rows)),
           "sensitivity": proportion(int((said & truth).sum()), int(truth.sum())),
           "specificity": proportion(int((~said & ~truth).sum()), int((~truth).sum())),
           "balanced_accuracy": {"value": balanced, "low": low, "high": high, "n": len(rows)},
           "p_value": p_value, "test": "Fisher's exact, two-sided (answer x truth)",
           "verdict": verdict(balanced, p_value)}
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
