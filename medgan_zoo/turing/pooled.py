"""The raters together: the mean of their balanced accuracies, tested by permuting the images' truth.

The unit of independence is the image: four raters who see one image give four answers about one
unit, so the truth labels are permuted image by image, one permutation for every rater at once, and
the interval resamples images. The inference is about these raters on these images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .stats import proportion, verdict


def answer_matrix(rows: list[dict[str, Any]]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Raters, the images' truth ([I] bool, generated), who answered what ([R, I] bool) and the
    answers ([R, I] bool, said generated; False where not answered)."""
    raters = sorted({r["rater"] for r in rows})
    images = sorted({r["image"] for r in rows})
    rater_at, image_at = {n: i for i, n in enumerate(raters)}, {n: i for i, n in enumerate(images)}
    truth = np.zeros(len(images), dtype=bool)
    answered = np.zeros((len(raters), len(images)), dtype=bool)
    said = np.zeros((len(raters), len(images)), dtype=bool)
    for r in rows:
        i, j = rater_at[r["rater"]], image_at[r["image"]]
        truth[j] = r["truth"] == "generated"
        answered[i, j] = True
        said[i, j] = r["answer"] == "generated"
    return raters, truth, answered, said


def mean_balanced_accuracy(truths: np.ndarray, answered: np.ndarray, said: np.ndarray) -> np.ndarray:
    """For each row of ``truths`` ([B, I] float 0/1): the raters' mean balanced accuracy."""
    a, s = answered.astype(np.float64), (said & answered).astype(np.float64)
    generated_seen = truths @ a.T  # [B, R]
    real_seen = (1 - truths) @ a.T
    hits = truths @ s.T  # generated images called generated
    false_alarms = (1 - truths) @ s.T  # real images called generated
    with np.errstate(invalid="ignore", divide="ignore"):
        balanced = 0.5 * (hits / generated_seen + 1 - false_alarms / real_seen)
    return np.nanmean(balanced, axis=1)


def pooled(rows: list[dict[str, Any]], permutations: int = 10_000, seed: int = 0,
           confidence: float = 0.95, bootstrap: int = 2000) -> dict[str, Any]:
    """The pooled row: the paper's pooled accuracy (every answer counted, labelled as such), the
    mean balanced accuracy with its image-permutation p-value (two-sided) and image-bootstrap
    interval."""
    truth_of = [r["truth"] == r["answer"] for r in rows]
    seconds = float(np.median([r["milliseconds"] for r in rows])) / 1000 if rows else None
    out: dict[str, Any] = {"answers": len(rows), "accuracy": proportion(sum(truth_of), len(rows)),
                           "raters": len({r["rater"] for r in rows}), "images": len({r["image"] for r in rows}),
                           "p_value": None, "balanced_accuracy": {"value": None, "low": None, "high": None},
                           "test": f"truth labels permuted over images, the same permutation for every rater "
                                   f"({permutations} permutations, two-sided)",
                           "median_seconds": seconds}
    if not rows:
        out["verdict"] = verdict(None, None)
        return out
    raters, truth, answered, said = answer_matrix(rows)
    if truth.all() or not truth.any():
        out["verdict"] = verdict(None, None)
        return out
    rng = np.random.default_rng(seed)
    observed = float(mean_balanced_accuracy(truth[None, :].astype(np.float64), answered, said)[0])
    exceed = 0
    for start in range(0, permutations, 1000):
        count = min(1000, permutations - start)
        shuffled = truth[rng.random((count, len(truth))).argsort(axis=1)].astype(np.float64)
        null = mean_balanced_accuracy(shuffled, answered, said)
        exceed += int(np.sum(np.abs(null - 0.5) >= abs(observed - 0.5) - 1e-12))
    p_value = (1 + exceed) / (1 + permutations)
    generated, real = np.flatnonzero(truth), np.flatnonzero(~truth)
    picks = np.concatenate([generated[rng.integers(0, len(generated), (bootstrap, len(generated)))],
                            real[rng.integers(0, len(real), (bootstrap, len(real)))]], axis=1)
    # a resampled image counts as often as it was drawn: weights on the answer matrix's columns
    weights = np.stack([np.bincount(p, minlength=len(truth)) for p in picks]).astype(np.float64)  # [boot, I]
    a = answered.astype(np.float64)
    s = (said & answered).astype(np.float64)
    t = truth.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sens = (weights * t) @ s.T / ((weights * t) @ a.T)
        spec = 1 - (weights * (1 - t)) @ s.T / ((weights * (1 - t)) @ a.T)
        values = np.nanmean(0.5 * (sens + spec), axis=1)
    tail = (1 - confidence) / 2
    low, high = np.nanquantile(values, [tail, 1 - tail])
    out.update(p_value=float(p_value), balanced_accuracy={"value": observed, "low": float(low), "high": float(high)},
               verdict=verdict(observed, p_value))
    return out
