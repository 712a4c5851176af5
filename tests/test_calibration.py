"""Every test the toolkit prints rejects at its nominal rate when nothing differs (seeded
simulations), and finds a planted difference: Fig. 6's two-sample test and the Turing test's
per-rater and pooled tests. Permutation p-values are valid for any number of permutations, so the
simulations use fewer than the product (200-500 instead of 1,000-10,000) to stay fast."""

from __future__ import annotations

import numpy as np
import pytest

from medgan_zoo.reporting.twosample import knn_two_sample
from medgan_zoo.turing.analysis import analyse
from medgan_zoo.turing.power import fisher_p_values, power
from medgan_zoo.turing.stats import summary


def _correlated_study(rng, shift: float = 0.0, subjects: int = 50, per: int = 4, rho: float = 0.8, dim: int = 16,
                      generated: int = 200):
    """Real: subjects x ``per`` slices correlated ``rho`` within a subject; generated: independent
    points of the same marginal distribution, ``shift`` SD away in 4 of the dimensions."""
    centre = rng.normal(size=(subjects, 1, dim)) * np.sqrt(rho)
    real = (centre + rng.normal(size=(subjects, per, dim)) * np.sqrt(1 - rho)).reshape(-1, dim)
    fake = rng.normal(size=(generated, dim))
    fake[:, :4] += shift
    return real, fake, np.repeat(np.arange(subjects), per)


def _studies(shift: float, studies: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [knn_two_sample(*_correlated_study(rng, shift), seed=int(rng.integers(2**31)), permutations=199)
            for _ in range(studies)]


def _rejections(shift: float, studies: int, seed: int) -> float:
    return float(np.mean([t.p_value <= 0.05 for t in _studies(shift, studies, seed)]))


def test_the_two_sample_test_holds_its_level_with_correlated_slices():
    tests = _studies(0.0, 1000, seed=11)
    assert np.mean([t.p_value <= 0.05 for t in tests]) <= 0.07
    # the chance-corrected accuracy is 0.5 on average, and its interval holds 0.5 as often as it says
    assert abs(np.mean([t.accuracy for t in tests]) - 0.5) < 0.01
    assert np.mean([t.low <= 0.5 <= t.high for t in tests]) >= 0.93
    assert np.mean([t.raw_accuracy for t in tests]) < 0.5  # what the correction corrects


def test_the_two_sample_test_finds_half_an_sd_in_four_of_sixteen_dimensions():
    assert _rejections(0.5, 200, seed=12) >= 0.80


def test_the_old_binomial_reading_of_the_same_accuracies_would_not_hold_its_level():
    """Why the permutation: the pooled accuracy's binomial p-value, on the same studies."""
    from scipy.stats import binomtest

    rng = np.random.default_rng(13)
    rejected = []
    for _ in range(300):
        real, fake, ids = _correlated_study(rng)
        test = knn_two_sample(real, fake, ids, seed=int(rng.integers(2**31)), permutations=1)
        correct = int(round(test.raw_accuracy * test.n))
        rejected.append(binomtest(correct, test.n, 0.5, alternative="greater").pvalue <= 0.05)
    permutation = _rejections(0.0, 300, seed=13)
    assert permutation <= 0.07 and np.mean(rejected) >= permutation  # the binomial reading rejects more


# -- the Turing test -------------------------------------------------------------------------------


def _rater(rng, truth: np.ndarray, name: str, balanced: float | None = None, says_generated: float = 0.5) -> list:
    """A rater at ``balanced`` accuracy (sensitivity = specificity), or, with None, one whose answers
    ignore the truth ("generated" with probability ``says_generated``)."""
    if balanced is None:
        said = rng.random(len(truth)) < says_generated
    else:
        right = rng.random(len(truth)) < balanced
        said = np.where(right, truth, ~truth)
    return [{"rater": name, "image": f"i{k}", "truth": "generated" if t else "real",
             "answer": "generated" if s else "real", "confidence": 3, "milliseconds": 1000}
            for k, (t, s) in enumerate(zip(truth, said, strict=True))]


@pytest.mark.parametrize("real_fraction", [0.3, 0.5, 0.7])
def test_a_rater_who_ignores_the_truth_is_rarely_called_expert(real_fraction):
    rng = np.random.default_rng(int(real_fraction * 100))
    truth = np.arange(50) >= int(round(50 * real_fraction))  # generated = True
    p_grid = fisher_p_values(int(truth.sum()), int((~truth).sum()))
    rejections = 0
    for _ in range(1000):
        said = rng.random(50) < rng.uniform(0.1, 0.9)  # each rater leans their own way
        rejections += p_grid[int((said & truth).sum()), int((said & ~truth).sum())] <= 0.05
    assert rejections / 1000 <= 0.06


@pytest.mark.parametrize("real_fraction", [0.3, 0.7])
def test_an_always_real_rater_gets_p_one_and_is_not_expert(real_fraction):
    truth = np.arange(50) >= int(round(50 * real_fraction))
    rows = _rater(np.random.default_rng(0), truth, "lazy", None, says_generated=0.0)
    result = summary(rows)
    assert result["p_value"] == 1.0 and result["balanced_accuracy"]["value"] == 0.5
    assert result["accuracy"]["value"] == pytest.approx(real_fraction)  # the paper's accuracy is misleading here
    assert result["verdict"] == "no evidence of telling real from generated"


def test_a_rater_at_balanced_accuracy_08_with_50_images_is_found():
    rng = np.random.default_rng(3)
    truth = np.arange(50) >= 25
    found = sum(summary(_rater(rng, truth, "r", 0.8))["p_value"] <= 0.05 for _ in range(300)) / 300
    assert found >= 0.95 and power(0.8, 25, 25) >= 0.95  # the exact power agrees with the simulation
    assert abs(found - power(0.8, 25, 25)) < 0.03


def test_a_rater_who_swaps_the_labels_is_reported_as_inverted():
    truth = np.arange(40) >= 20
    result = summary(_rater(np.random.default_rng(4), truth, "r", 0.1))
    assert result["p_value"] < 0.001 and result["verdict"].startswith("tells them apart, inverted")


def test_the_pooled_test_holds_its_level_when_four_raters_share_the_images():
    """Images differ in how fake they look (the same for every rater) whatever their truth: answers
    about one image are correlated. Counting every answer as independent rejects far too often; the
    image permutation does not."""
    from scipy.stats import binomtest

    rng = np.random.default_rng(5)
    permutation, naive = [], []
    for _ in range(300):
        truth = rng.permutation(np.arange(40) >= 20)
        looks_fake = rng.normal(size=40)  # independent of the truth: the null
        rows = []
        for r in range(4):
            said = looks_fake + 0.3 * rng.normal(size=40) > rng.normal(scale=0.3)
            rows += [{"rater": f"r{r}", "image": f"i{k}", "truth": "generated" if t else "real",
                      "answer": "generated" if s else "real", "confidence": 3, "milliseconds": 1000}
                     for k, (t, s) in enumerate(zip(truth, said, strict=True))]
        from medgan_zoo.turing.pooled import pooled

        permutation.append(pooled(rows, permutations=200, seed=int(rng.integers(2**31)), bootstrap=20)["p_value"])
        correct = sum(row["truth"] == row["answer"] for row in rows)
        naive.append(binomtest(correct, len(rows), 0.5).pvalue)
    assert np.mean(np.array(permutation) <= 0.05) <= 0.07
    assert np.mean(np.array(naive) <= 0.05) > 0.15  # the old pooled row


def test_the_pooled_test_finds_raters_who_can_tell():
    rng = np.random.default_rng(6)
    truth = rng.permutation(np.arange(50) >= 25)
    rows = [row for r in range(4) for row in _rater(rng, truth, f"r{r}", 0.65)]
    result = analyse(rows, permutations=2000)
    pooled = result["pooled"]
    assert pooled["p_value"] < 0.01 and pooled["balanced_accuracy"]["low"] > 0.5
    assert pooled["verdict"] == "tells them apart" and pooled["images"] == 50 and pooled["raters"] == 4


# -- mode coverage: class shares corrected for the classifier's errors --------------------------------


def _predictions(rng, truth: np.ndarray, accuracy: float, k: int) -> np.ndarray:
    """A classifier right with probability ``accuracy``, otherwise one of the other classes at random."""
    wrong = (truth + rng.integers(1, k, len(truth))) % k
    return np.where(rng.random(len(truth)) < accuracy, truth, wrong)


def _coverage_study(rng, generated_share: np.ndarray, k: int = 5, accuracy: float = 0.65):
    from medgan_zoo.evaluation.label_shift import corrected_shares

    real_share = np.full(k, 1 / k)
    truth = rng.choice(k, 1000, p=real_share)
    generated = rng.choice(k, 2000, p=generated_share)
    result = corrected_shares(truth, _predictions(rng, truth, accuracy, k), _predictions(rng, generated, accuracy, k),
                              k, bootstrap=200, seed=int(rng.integers(2**31)))
    raw = np.bincount(_predictions(rng, generated, accuracy, k), minlength=k) / len(generated)
    return result, 0.5 * np.abs(generated_share - real_share).sum(), raw


def test_a_forgotten_class_is_found_through_a_65_percent_classifier():
    rng = np.random.default_rng(21)
    forgot = np.array([0.25, 0.25, 0.25, 0.25, 0.0])
    runs = [_coverage_study(rng, forgot) for _ in range(100)]
    assert np.mean([abs(r["tvd"] - truth) < 0.1 for r, truth, _ in runs]) >= 0.95
    assert np.mean([r["missing"] == [4] for r, _, _ in runs]) >= 0.95
    assert all(r["condition_number"] < 3 for r, _, _ in runs)
    # what the uncorrected predicted histogram shows instead: the forgotten class at ~9%, half its real share
    assert np.mean([raw[4] for _, _, raw in runs]) > 0.05


def test_a_generator_with_the_real_shares_is_missing_nothing():
    rng = np.random.default_rng(22)
    runs = [_coverage_study(rng, np.full(5, 0.2)) for _ in range(100)]
    assert np.mean([r["missing"] == [] for r, _, _ in runs]) >= 0.95


def test_a_classifier_that_confuses_classes_wholesale_gives_no_verdict():
    from medgan_zoo.evaluation.label_shift import corrected_shares

    rng = np.random.default_rng(23)
    truth = rng.choice(3, 3000)
    # classes 0 and 1 look alike to it: it says 0 for either about half the time
    coin = rng.random(3000) < np.where(truth == 0, 0.52, 0.5)
    predicted = np.where(truth == 2, 2, np.where(coin, 0, 1))
    result = corrected_shares(truth, predicted, rng.integers(0, 3, 500), 3, bootstrap=50)
    assert result["condition_number"] > 50 and result["missing"] is None and "ill-conditioned" in result["note"]


def test_coverage_intervals_resample_subjects_whose_slices_share_mistakes():
    """Held-out subjects whose slices the classifier gets wrong together (a subject-level confusion):
    resampling slices makes the intervals too narrow; resampling subjects keeps them honest."""
    from medgan_zoo.evaluation.label_shift import corrected_shares

    rng = np.random.default_rng(31)
    k, covered_slices, covered_subjects = 3, 0, 0
    for _ in range(60):
        subject_class = rng.integers(0, k, 20)
        truth = np.repeat(subject_class, 10)
        # each subject is read as one class for most of its slices: right for 70% of subjects
        read_as = np.where(rng.random(20) < 0.7, subject_class, (subject_class + rng.integers(1, k, 20)) % k)
        predicted = np.where(rng.random(200) < 0.9, np.repeat(read_as, 10), rng.integers(0, k, 200))
        generated_truth = rng.choice(k, 3000, p=np.full(k, 1 / k))
        generated = np.where(rng.random(3000) < 0.7, generated_truth, (generated_truth + rng.integers(1, k, 3000)) % k)
        true_share = np.full(k, 1 / k)
        by_slice = corrected_shares(truth, predicted, generated, k, real_share=true_share, bootstrap=200, seed=1)
        by_subject = corrected_shares(truth, predicted, generated, k, real_share=true_share, bootstrap=200, seed=1,
                                      subjects=np.repeat(np.arange(20), 10))
        covered_slices += np.mean((by_slice["low"] <= true_share) & (true_share <= by_slice["high"]))
        covered_subjects += np.mean((by_subject["low"] <= true_share) & (true_share <= by_subject["high"]))
    assert covered_subjects / 60 > covered_slices / 60 and covered_subjects / 60 >= 0.85
