"""A number for Fig. 6: can a k-nearest-neighbour classifier tell real from generated features?

A classifier two-sample test (Lopez-Paz & Oquab, 2017) made honest about its unit of independence.
The real points are slices of subjects: slices of one subject are alike, so they are not
independent. Generated points are independent by construction. The design:

- Clusters: each real subject is a cluster; generated points are grouped into pseudo-clusters of the
  same sizes (and, when there are more of them, subsampled to as many points as the real side).
- Folds are assigned once, by cluster (no subject on both sides of a fold). Each point's ``k``
  nearest neighbours among the other folds' points are computed once; a point is classified by its
  neighbours' majority. The statistic is the balanced accuracy: 0.5 when the two sets are
  indistinguishable in that feature space, 1 when every point's neighbours give its origin away.
- The p-value is a permutation p-value: the neighbours stay fixed and the labels are permuted by
  cluster (each cluster keeps one label for all its points; clusters of the same size swap labels),
  so the permuted statistics carry the same within-subject dependence as the observed one.
- Leaving a point's own subject out of its neighbourhood tilts votes against its own label, so
  chance is a little under 0.5 (0.45-0.48 in simulations, lower with very few subjects): the
  permutations' mean measures it, and the accuracy shown is corrected to it (0.5 when nothing
  differs).
- The interval is the corrected accuracy +- z times the permutations' standard deviation. A bootstrap
  of the fixed out-of-fold predictions (first tried) holds the classifier fixed and was too narrow:
  under the null it excluded 0.5 in 14% of simulated studies, disagreeing with the p-value in 10%.
- Below ``min_subjects`` real subjects no p-value or interval is given: the test is not meaningful
  at that size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Fewer real subjects than this: no p-value (the permutation distribution is too coarse and the
#: bootstrap over subjects unreliable).
MIN_SUBJECTS = 20


@dataclass(frozen=True)
class TwoSample:
    """The test's result; ``p_value``, ``low`` and ``high`` are None below ``MIN_SUBJECTS`` subjects.
    With a p-value, ``accuracy`` is chance-corrected (``raw_accuracy - chance + 0.5``: 0.5 on average
    when nothing differs) and its interval is the accuracy +- z times the permutations' standard
    deviation (the statistic's spread when nothing differs)."""

    accuracy: float | None  # None: too few points to cross-validate (see ``note``)
    low: float | None
    high: float | None
    p_value: float | None
    n: int  # points classified (real + generated)
    subjects: int  # real subjects (the unit of independence of the real side)
    k: int
    folds: int
    permutations: int
    note: str = ""
    chance: float | None = None  # the permutation null's mean: this design's chance level
    raw_accuracy: float | None = None  # before the chance correction (``accuracy`` = raw - chance + 0.5)

    def text(self) -> str:
        if self.accuracy is None:
            return f"kNN balanced accuracy not computed: {self.note}"
        if self.p_value is None:
            return (f"kNN balanced accuracy {self.accuracy:.3f} (0.5: indistinguishable; no test: {self.note})")
        return (f"kNN balanced accuracy {self.accuracy:.3f} [{self.low:.3f}, {self.high:.3f}] "
                f"(0.5: indistinguishable; permutation p = {self.p_value:.2g}, {self.subjects} subjects, "
                f"n = {self.n})")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_k(points: int) -> int:
    """The odd number nearest ``2 sqrt(points)``, at least 5: neighbourhoods that grow with the data
    (consistent as n grows) and, at Fig. 6's sizes, enough power (docs/analysis.md)."""
    k = max(5, int(round(2 * np.sqrt(points))))
    return k if k % 2 else k + 1


def knn_two_sample(real: np.ndarray, generated: np.ndarray, subjects: np.ndarray | list | None = None,
                   k: int | None = None,
                   folds: int = 5, seed: int = 0, permutations: int = 1000, confidence: float = 0.95,
                   min_subjects: int = MIN_SUBJECTS) -> TwoSample:
    """Balanced accuracy of a ``k``-NN classifier separating ``real`` from ``generated`` (rows are
    feature vectors), with a permutation p-value that respects ``subjects`` (one id per real row;
    None: every real row its own subject) and an interval from the permutations' spread. ``k`` None:
    :func:`default_k` of the points classified."""
    from scipy.stats import norm

    real, generated = np.asarray(real, dtype=np.float64), np.asarray(generated, dtype=np.float64)
    if real.ndim != 2 or generated.ndim != 2 or real.shape[1] != generated.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D, got {real.shape} and {generated.shape}")
    groups = np.arange(len(real)) if subjects is None else np.unique(np.asarray(subjects), return_inverse=True)[1]
    if len(groups) != len(real):
        raise ValueError(f"one subject per real row: {len(groups)} subjects for {len(real)} rows")
    rng = np.random.default_rng(seed)
    real, groups = _fit_real(real, groups, len(generated), rng)
    sizes = np.bincount(groups)
    if len(generated) > len(real):
        generated = generated[rng.choice(len(generated), len(real), replace=False)]
    n_subjects = len(sizes)
    k = default_k(len(real) + len(generated)) if k is None else k
    if k % 2 == 0 or k < 1:
        raise ValueError(f"k must be odd (a majority needs no tie-break), got {k}")
    folds = min(folds, n_subjects)
    if folds < 2 or len(generated) < folds:
        return TwoSample(accuracy=None, low=None, high=None, p_value=None, n=len(real) + len(generated),
                         subjects=n_subjects, k=k, folds=folds, permutations=0,
                         note=f"{n_subjects} real subject(s) and {len(generated)} generated point(s): too few to "
                         "cross-validate by subject")
    # clusters: real subjects, then generated pseudo-clusters of the same sizes (as far as they go)
    generated_sizes = _pseudo_sizes(sizes, len(generated))
    cluster = np.concatenate([groups, n_subjects + np.repeat(np.arange(len(generated_sizes)), generated_sizes)])
    cluster_sizes = np.concatenate([sizes, generated_sizes])
    labels = np.concatenate([np.zeros(len(sizes), dtype=np.int8), np.ones(len(generated_sizes), dtype=np.int8)])
    x = np.concatenate([real, generated])
    x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)  # label-free, so permutations stay valid
    fold_of_cluster = np.empty(len(cluster_sizes), dtype=np.int64)
    fold_of_cluster[rng.permutation(len(cluster_sizes))] = np.arange(len(cluster_sizes)) % folds
    fold = fold_of_cluster[cluster]
    k = min(k, _odd_below(len(x) - np.bincount(fold).max()))  # every point has k out-of-fold neighbours
    neighbours = out_of_fold_neighbours(x, fold, k)
    accuracy = float(_balanced_accuracy(labels[None, :], cluster, neighbours)[0])
    base = dict(accuracy=accuracy, n=len(x), subjects=n_subjects, k=k, folds=folds, permutations=permutations)
    if n_subjects < min_subjects:
        return TwoSample(low=None, high=None, p_value=None,
                         note=f"{n_subjects} real subjects, fewer than the {min_subjects} it needs",
                         **{**base, "permutations": 0})
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    permuted = _permuted_labels(labels, cluster_sizes, permutations, rng)
    blocks = max(1, (permutations * len(x) * k) // 20_000_000)  # bounded memory: [block, N, k] votes
    null = np.concatenate([_balanced_accuracy(block, cluster, neighbours)
                           for block in np.array_split(permuted, blocks)])
    p_value = float((1 + np.sum(null >= accuracy - 1e-12)) / (1 + permutations))
    # leaving a whole subject out of its own neighbourhood tilts votes against a point's own label:
    # chance is a little under 0.5 (most with few subjects); the permutations measure it
    chance = float(null.mean())
    corrected = accuracy - chance + 0.5
    # the permutations' spread is the statistic's sampling spread when nothing differs (classifier,
    # folds and subjects all varying with the labels), a bootstrap of fixed predictions is not (docs)
    half = float(norm.ppf(0.5 + confidence / 2)) * float(null.std(ddof=1)) if permutations > 1 else float("nan")
    return TwoSample(low=corrected - half, high=corrected + half, p_value=p_value, chance=chance,
                     raw_accuracy=accuracy, **{**base, "accuracy": corrected})


def _odd_below(count: int) -> int:
    return max(1, count if count % 2 else count - 1)


def _fit_real(real: np.ndarray, groups: np.ndarray, available: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Whole subjects dropped at random when the real side has more points than the generated one."""
    if len(real) <= available:
        return real, groups
    keep, total = [], 0
    for subject in rng.permutation(groups.max() + 1):
        rows = np.flatnonzero(groups == subject)
        if total + len(rows) > available:
            continue
        keep.append(rows)
        total += len(rows)
    rows = np.sort(np.concatenate(keep)) if keep else np.arange(0)
    return real[rows], np.unique(groups[rows], return_inverse=True)[1]


def _pseudo_sizes(sizes: np.ndarray, total: int) -> np.ndarray:
    """Sizes of the generated pseudo-clusters: the real subjects' sizes while points last."""
    out, left = [], total
    for size in sizes:
        if left <= 0:
            break
        out.append(min(int(size), left))
        left -= out[-1]
    return np.asarray(out, dtype=np.int64)


def out_of_fold_neighbours(x: np.ndarray, fold: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
    """``[N, k]`` indices of each row's ``k`` nearest rows (Euclidean) among the other folds' rows."""
    squared = np.einsum("ij,ij->i", x, x)
    result = np.empty((len(x), k), dtype=np.int64)
    for start in range(0, len(x), block):
        rows = slice(start, start + block)
        distance = squared[rows, None] - 2 * x[rows] @ x.T + squared[None, :]
        distance[fold[rows, None] == fold[None, :]] = np.inf
        nearest = np.argpartition(distance, k, axis=1)[:, :k]
        result[rows] = nearest
    return result


def _balanced_accuracy(cluster_labels: np.ndarray, cluster: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Per row of ``cluster_labels`` ([B, clusters] of 0 real / 1 generated): the balanced accuracy
    of the neighbours' majority vote."""
    y = cluster_labels[:, cluster]  # [B, N]
    votes = y[:, neighbours].sum(axis=2, dtype=np.int16)  # [B, N]
    predicted = (2 * votes > neighbours.shape[1]).astype(np.int8)
    correct = predicted == y
    generated = y.astype(bool)
    n_generated = generated.sum(axis=1)
    hit_generated = (correct & generated).sum(axis=1) / np.maximum(n_generated, 1)
    hit_real = (correct & ~generated).sum(axis=1) / np.maximum(y.shape[1] - n_generated, 1)
    return 0.5 * (hit_generated + hit_real)


def _permuted_labels(labels: np.ndarray, sizes: np.ndarray, count: int, rng) -> np.ndarray:
    """``count`` relabellings of the clusters: within each cluster size, the labels shuffled."""
    permuted = np.empty((count, len(labels)), dtype=np.int8)
    for size in np.unique(sizes):
        members = np.flatnonzero(sizes == size)
        order = rng.random((count, len(members))).argsort(axis=1)
        permuted[:, members] = labels[members][order]
    return permuted
