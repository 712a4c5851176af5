"""Distances between feature sets: Fréchet distance, KID, precision/recall/density/coverage.

All in float64 torch. The Fréchet distance takes tr(sqrt(S1 S2)) as the sum of the square roots of
the eigenvalues of sqrt(S1) S2 sqrt(S1), a symmetric PSD matrix, so two symmetric eigen-solvers
replace a general matrix square root.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor


def mean_and_covariance(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance (N - 1) of features [N, D], in float64."""
    x = features.double()
    if len(x) < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {len(x)}")
    if len(x) < x.shape[1]:
        warnings.warn(
            f"{len(x)} samples for {x.shape[1]}-dimensional features: the covariance is rank-deficient and "
            f"the distance biased; use at least {x.shape[1]} (the paper uses 10,000)", stacklevel=3)
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def _sqrt_psd(matrix: Tensor) -> Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2))."""
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    root = _sqrt_psd(sigma1)
    inner = root @ sigma2 @ root
    eigen = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0)
    diff = mu1 - mu2
    return float(diff @ diff + sigma1.trace() + sigma2.trace() - 2 * eigen.sqrt().sum())


def frechet_distance_of(a: Tensor, b: Tensor) -> float:
    return frechet_distance(*mean_and_covariance(a), *mean_and_covariance(b))


def _unbiased_mmd2(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(a, b) = (a.b / d + 1)^3."""
    m, d = len(x), x.shape[1]

    def kernel(a: Tensor, b: Tensor) -> Tensor:
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    off_xx = kxx.sum() - kxx.diagonal().sum()
    off_yy = kyy.sum() - kyy.diagonal().sum()
    return float((off_xx + off_yy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def kernel_distance(a: Tensor, b: Tensor, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 2020) -> tuple[float, float]:
    """KID: mean and std of the unbiased MMD^2 over random subsets.

    Pass the generated set first, as torch-fidelity's ``calculate_metrics(input1=generated,
    input2=real)`` does: the subsets are numpy ``RandomState(seed)`` draws, first from ``a`` then
    from ``b``, so the same order and seed give torch-fidelity's subsets. A ``subset_size`` larger
    than either set is refused, as torch-fidelity refuses it (a silently smaller subset would change
    the estimator's variance and the number)."""
    if subset_size < 2:
        raise ValueError(f"KID subset_size must be at least 2, got {subset_size}")
    if subset_size > min(len(a), len(b)):
        raise ValueError(f"KID subset_size {subset_size} is larger than the sets ({len(a)} generated, {len(b)} "
                         f"real); set subset_size to at most {min(len(a), len(b))} or use more samples")
    rng = np.random.RandomState(seed)
    x, y = a.double(), b.double()
    values = []
    for _ in range(subsets):
        i = torch.from_numpy(rng.choice(len(x), subset_size, replace=False))
        j = torch.from_numpy(rng.choice(len(y), subset_size, replace=False))
        values.append(_unbiased_mmd2(x[i], y[j]))
    return float(np.mean(values)), float(np.std(values))


def _distances(x: Tensor, y: Tensor, x_ids: Tensor, y_ids: Tensor) -> Tensor:
    """Euclidean distances, exactly 0 between identical vectors (the matrix-product form leaves
    rounding noise there, which would make ties with a k-NN radius of 0 fall either way)."""
    distances = torch.cdist(x, y)
    distances[x_ids[:, None] == y_ids[None, :]] = 0
    return distances


def prdc(real: Tensor, fake: Tensor, k: int = 5) -> dict[str, float]:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020), as
    the authors' ``prdc`` package computes them: a point counts as inside a k-NN ball when its
    distance is strictly below the radius (the radius is the distance to the k-th neighbour, the
    point itself not counted)."""
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"PRDC with k={k} needs more than {k} samples in each set")
    real, fake = real.double(), fake.double()
    ids = torch.unique(torch.cat([real, fake]), dim=0, return_inverse=True)[1]
    real_ids, fake_ids = ids[:len(real)], ids[len(real):]
    # k + 1: the point itself is among the nearest, at distance 0
    real_radius = _distances(real, real, real_ids, real_ids).kthvalue(k + 1, dim=1).values
    fake_radius = _distances(fake, fake, fake_ids, fake_ids).kthvalue(k + 1, dim=1).values
    cross = _distances(real, fake, real_ids, fake_ids)  # [R, F]
    inside_real = cross < real_radius[:, None]
    return {
        "precision": float(inside_real.any(dim=0).double().mean()),
        "recall": float((cross < fake_radius[None, :]).any(dim=1).double().mean()),
        "density": float(inside_real.double().sum(dim=0).mean() / k),
        "coverage": float((cross.min(dim=1).values < real_radius).double().mean()),
    }


class FeatureAccumulator:
    """torchmetrics-style collection of real and generated features: ``update(images, real=...)``
    in any number of batches; subclasses ``compute()`` from the two stacked sets."""

    def __init__(self, embed: Callable[[Tensor], Tensor]):
        self.embed = embed
        self.reset()

    def reset(self) -> None:
        self._real: list[Tensor] = []
        self._fake: list[Tensor] = []

    def update(self, images: Tensor, real: bool) -> None:
        (self._real if real else self._fake).append(self.embed(images))

    def _sets(self) -> tuple[Tensor, Tensor]:
        if not self._real or not self._fake:
            raise ValueError("update() with both real=True and real=False images before compute()")
        return torch.cat(self._real), torch.cat(self._fake)
