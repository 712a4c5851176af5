"""Metrics equal their reference implementations on ordinary inputs: PRDC against Naeem et al.'s
``prdc`` package (ties included), KID against torch-fidelity's subset draws, Dice per volume as the
ACDC challenge scores it. docs/fidelity.md lists each reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgan_zoo.evaluation.configs import DiceConfig, KidConfig, PrdcConfig
from medgan_zoo.evaluation.statistics import kernel_distance, prdc


def _reference_prdc(real: torch.Tensor, fake: torch.Tensor, k: int) -> dict[str, float]:
    from prdc import compute_prdc

    return {key: float(value) for key, value in compute_prdc(real.numpy(), fake.numpy(), k).items()}


@pytest.mark.parametrize(("n_real", "n_fake", "k"), [(60, 60, 5), (80, 45, 3), (40, 70, 7)])
def test_prdc_equals_the_reference_package_on_continuous_features(n_real, n_fake, k):
    g = torch.Generator().manual_seed(n_real + n_fake)
    real = torch.randn(n_real, 16, generator=g, dtype=torch.float64)
    fake = torch.randn(n_fake, 16, generator=g, dtype=torch.float64) * 1.3 + 0.4
    ours, theirs = prdc(real, fake, k), _reference_prdc(real, fake, k)
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert 0 < ours["precision"] < 1  # an informative case, not all or nothing


def test_prdc_equals_the_reference_package_with_repeated_points():
    # Integer features keep every distance exact in both implementations, so ties are real ties:
    # repeated empty slices in the real set and a memorising generator that repeats a few images.
    g = torch.Generator().manual_seed(3)
    distinct = torch.randint(-3, 4, (30, 8), generator=g).double()
    real = torch.cat([distinct, distinct[:1].repeat(12, 1)])  # 12 copies of one "empty slice"
    fake = torch.cat([distinct[:1].repeat(20, 1), distinct[5:8].repeat(6, 1), distinct[10:20]])
    ours, theirs = prdc(real, fake, 5), _reference_prdc(real, fake, 5)
    assert ours == pytest.approx(theirs, abs=1e-12)
    # with <= a copy sitting on a radius of 0 would count as inside; the reference says it is not
    assert ours["density"] < 1.0


def test_prdc_ties_are_exact_for_float_features_too():
    # Repeated float vectors: the matrix-product distance leaves rounding noise between copies; ours
    # is exactly 0 there, so the result does not depend on that noise (a copy never lies strictly
    # inside a radius of 0).
    g = torch.Generator().manual_seed(0)
    base = torch.randn(25, 64, generator=g, dtype=torch.float64) * 7.3
    real = torch.cat([base, base[:1].repeat(10, 1)])
    fake = torch.cat([base[:1].repeat(15, 1), base[1:11] + 0.01])
    result = prdc(real, fake, 5)
    # the 15 copies of base[0] lie on balls of radius 0 (outside); the 10 near-copies of base[1:11]
    # lie well inside their originals' balls
    assert result["precision"] == 10 / 25
    shuffled = prdc(real[torch.randperm(len(real), generator=g)], fake[torch.randperm(len(fake), generator=g)], 5)
    assert shuffled == pytest.approx(result, abs=1e-12)


def test_prdc_metric_uses_the_configured_inception_weights(random_inception, monkeypatch):
    from medgan_zoo.evaluation import neighbours

    monkeypatch.delenv("MEDGAN_ZOO_INCEPTION_WEIGHTS", raising=False)
    embed, _ = neighbours._space(_Context(), "inception", PrdcConfig(features="inception",
                                                                      weights=random_inception, batch_size=7))
    assert embed.weights == random_inception and embed.batch_size == 7


class _Context:
    device = torch.device("cpu")


class _FakeExtractor:
    sha256 = "0" * 64


@pytest.mark.parametrize(("n_fake", "n_real", "subset_size"), [(50, 50, 20), (40, 90, 25), (70, 33, 30)])
def test_kid_plugin_draws_torch_fidelitys_subsets(monkeypatch, n_fake, n_real, subset_size):
    from torch_fidelity.metric_kid import kid_features_to_metric

    from medgan_zoo.evaluation import fid

    g = torch.Generator().manual_seed(n_fake)
    real = torch.randn(n_real, 12, generator=g, dtype=torch.float64)
    fake = torch.randn(n_fake, 12, generator=g, dtype=torch.float64) + 0.3
    monkeypatch.setattr(fid, "_features", lambda ctx, config: (real, fake, _FakeExtractor()))
    config = KidConfig(subsets=9, subset_size=subset_size, seed=5)
    ours = fid.KidMetric(config)(None)
    # torch-fidelity's call: calculate_metrics(input1=generated, input2=real)
    theirs = kid_features_to_metric(fake, real, kid_subsets=9, kid_subset_size=subset_size, rng_seed=5,
                                    verbose=False, kid_kernel="poly", kid_kernel_poly_degree=3,
                                    kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-9)
    assert ours["kid_std"] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-9)
    assert ours["subset_size"] == subset_size


def test_kid_adapts_a_subset_larger_than_a_set_and_says_so(monkeypatch):
    from torch_fidelity.metric_kid import kid_features_to_metric

    from medgan_zoo.evaluation import fid

    # the function keeps torch-fidelity's refusal; the metric (IDRiD: 54 training images against the
    # quick preset's subsets of 100) uses the largest subset the sets allow, and says so
    real, fake = torch.randn(54, 4, dtype=torch.float64), torch.randn(256, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="subset_size 100 is larger than the sets \\(256 generated, 54 real\\)"):
        kernel_distance(fake, real, subset_size=100)
    monkeypatch.setattr(fid, "_features", lambda ctx, config: (real, fake, _FakeExtractor()))
    ours = fid.KidMetric(KidConfig(subsets=20, subset_size=100, seed=5))(None)
    theirs = kid_features_to_metric(fake, real, kid_subsets=20, kid_subset_size=54, rng_seed=5, verbose=False,
                                    kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                                    kid_kernel_poly_coef0=1)
    assert ours["subset_size"] == 54 and ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"])
    assert "subsets of 54 were used" in ours["note"] and ours["n_real"] == 54


def test_kid_accumulator_puts_the_generated_set_first(random_inception):
    from torch_fidelity.metric_kid import kid_features_to_metric

    from medgan_zoo.evaluation.fid import KernelInceptionDistance

    metric = KernelInceptionDistance(weights=str(random_inception), subsets=4, subset_size=10, seed=1)
    metric.embed = lambda x: x.flatten(1).double()  # features given directly: no Inception pass
    real, fake = torch.randn(25, 6), torch.randn(15, 6) + 1
    metric.update(real, real=True)
    metric.update(fake, real=False)
    theirs = kid_features_to_metric(fake.double(), real.double(), kid_subsets=4, kid_subset_size=10, rng_seed=1,
                                    verbose=False, kid_kernel="poly", kid_kernel_poly_degree=3,
                                    kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    assert metric.compute()[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-9)


def test_dice_is_scored_per_phase_volume_on_acdc_phantom(monkeypatch):
    """A U-Net that finds everything at end-diastole and nothing at end-systole scores 1 on each ED
    volume and 0 on each ES volume: 0.5. Pooling a patient's two phases would give 2ED/(2ED+ES)."""
    from medgan_zoo.evaluation import unet
    from medgan_zoo.evaluation.dice import DiceMetric
    from medgan_zoo.evaluation.harness import EvalContext
    from medgan_zoo.sampling import Samples

    ctx = EvalContext(Samples(torch.zeros(2, 1, 32, 32), torch.zeros(2, 32, 32, dtype=torch.uint8), 0),
                      "acdc-phantom", None, 32, {"train_subjects": 1, "test_subjects": 2}, torch.device("cpu"), None)
    test = ctx.real("test")
    es = torch.tensor([v.endswith("_es") for v in (test.volume_ids[i] for i in test.volume_index.tolist())])
    assert test.volume_ids == ["patient002_ed", "patient002_es", "patient003_ed", "patient003_es"]
    prediction = test.masks.clone()
    prediction[es] = 0
    monkeypatch.setattr(unet, "train_unet", lambda *args, **kwargs: None)
    monkeypatch.setattr(unet, "predict", lambda model, images, device: prediction)
    result = DiceMetric(DiceConfig(seeds=1, sources=("synthetic",)))(ctx)
    assert result["test_volumes"] == 4 and result["test_subjects"] == 2
    assert result["dice"] == pytest.approx(0.5)
    assert np.isclose(result["sources"]["synthetic"]["per_class"]["left ventricle"], 0.5)
