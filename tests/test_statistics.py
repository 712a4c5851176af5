"""Feature-space distances against closed forms, scipy, and torch-fidelity's own functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from medgan_zoo.evaluation.statistics import (
    frechet_distance,
    frechet_distance_of,
    kernel_distance,
    mean_and_covariance,
    prdc,
)


def test_frechet_distance_of_diagonal_gaussians_in_closed_form():
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    s1, s2 = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 1.0])  # standard deviations
    value = frechet_distance(mu1, torch.diag(s1**2), mu2, torch.diag(s2**2))
    expected = (1 + 0 + 4) + ((1 - 4) ** 2 + (4 - 1) ** 2 + (9 - 1) ** 2)
    assert math.isclose(value, expected, rel_tol=1e-12)


def test_frechet_distance_matches_scipy_sqrtm_for_general_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    value = frechet_distance(*(torch.from_numpy(x) for x in (mu1, s1, mu2, s2)))
    assert math.isclose(value, expected, rel_tol=1e-9)


def test_identical_sets_are_at_distance_zero():
    x = torch.randn(500, 16, generator=torch.Generator().manual_seed(0))
    assert abs(frechet_distance_of(x, x)) < 1e-8
    assert frechet_distance_of(x, x + 1) == pytest.approx(16.0, rel=1e-9)  # a shift of 1 in 16 dimensions


def test_few_samples_warn_with_the_number_needed():
    with pytest.warns(UserWarning, match="use at least 16"):
        mean_and_covariance(torch.randn(5, 16))
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_covariance(torch.randn(1, 4))


def test_kid_equals_torch_fidelity_for_the_same_seed():
    from torch_fidelity.metric_kid import kid_features_to_metric

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(60, 32, generator=g), torch.randn(50, 32, generator=g) + 0.3
    mean, std = kernel_distance(a, b, subsets=7, subset_size=20, seed=11)
    theirs = kid_features_to_metric(a, b, kid_subsets=7, kid_subset_size=20, rng_seed=11, verbose=False,
                                    kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                                    kid_kernel_poly_coef0=1)
    # theirs runs in float32, ours in float64: equal to float32 precision
    assert mean == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert std == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)


def test_prdc_on_identical_and_disjoint_sets():
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    same = prdc(x, x.clone(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert 0.8 < same["density"] < 1.5  # ~1 when both sets come from one distribution
    far = prdc(x, x + 100, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    with pytest.raises(ValueError, match="more than 5"):
        prdc(x[:5], x, k=5)
