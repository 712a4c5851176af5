"""A number for Fig. 6: can a k-nearest-neighbour classifier tell real from generated features?

The classifier's cross-validated accuracy on a balanced set is a classifier two-sample test
(Lopez-Paz & Oquab, 2017): 0.5 means the two sets are indistinguishable in that feature space, 1
that every point's neighbours give its origin away. Every point is predicted once (stratified
k-fold), so the accuracy is a binomial proportion with a Wilson interval and a one-sided exact test
against 0.5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TwoSample:
    accuracy: float
    low: float
    high: float
    p_value: float
    n: int  # points classified (real + generated, balanced)
    k: int
    folds: int

    def text(self) -> str:
        return (f"kNN accuracy {self.accuracy:.3f} [{self.low:.3f}, {self.high:.3f}] "
                f"(0.5: indistinguishable; p = {self.p_value:.2g}, n = {self.n})")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def knn_two_sample(real: np.ndarray, generated: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0,
                   confidence: float = 0.95) -> TwoSample:
    """Cross-validated accuracy of a ``k``-NN classifier separating ``real`` from ``generated``
    (rows are feature vectors; the larger set is subsampled so both count equally)."""
    from scipy.stats import binomtest
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    real, generated = np.asarray(real, dtype=np.float64), np.asarray(generated, dtype=np.float64)
    if real.ndim != 2 or generated.ndim != 2 or real.shape[1] != generated.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D, got {real.shape} and {generated.shape}")
    rng = np.random.default_rng(seed)
    m = min(len(real), len(generated))
    if m < max(folds, k + 1):
        raise ValueError(f"the two-sample test needs at least {max(folds, k + 1)} points per set, got {m}")
    real = real[rng.choice(len(real), m, replace=False)]
    generated = generated[rng.choice(len(generated), m, replace=False)]
    x = np.concatenate([real, generated])
    y = np.concatenate([np.zeros(m, dtype=int), np.ones(m, dtype=int)])
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(model, x, y, cv=split)
    correct = int((predicted == y).sum())
    p_value = binomtest(correct, len(y), 0.5, alternative="greater").pvalue  # better than chance?
    interval = binomtest(correct, len(y), 0.5).proportion_ci(confidence_level=confidence, method="wilson")
    return TwoSample(correct / len(y), float(interval.low), float(interval.high), float(p_value), len(y), k, folds)
