"""Fig. 6's two-sample test: ours (fixed out-of-fold neighbours, permutations by subject) against
the classifier two-sample test it replaced (scikit-learn's cross_val_predict with a k-NN, a
binomial p-value), on the same simulated studies: time per test at the report's sizes, and how often
each rejects when nothing differs (real slices correlated within subjects) and when a difference is
planted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from results_io import machine, write_results

from medgan_zoo.reporting.twosample import knn_two_sample


def binomial_cv_test(real: np.ndarray, generated: np.ndarray, seed: int, k: int = 5, folds: int = 5) -> float:
    """The earlier test: balanced sets, stratified k-fold cross_val_predict, one-sided binomial p."""
    from scipy.stats import binomtest
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    m = min(len(real), len(generated))
    x = np.concatenate([real[rng.choice(len(real), m, replace=False)],
                        generated[rng.choice(len(generated), m, replace=False)]])
    y = np.repeat([0, 1], m)
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k))
    predicted = cross_val_predict(model, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return binomtest(int((predicted == y).sum()), len(y), 0.5, alternative="greater").pvalue


def study(rng, shift: float, subjects: int, per: int, generated: int, dim: int = 16, rho: float = 0.8):
    centre = rng.normal(size=(subjects, 1, dim)) * np.sqrt(rho)
    real = (centre + rng.normal(size=(subjects, per, dim)) * np.sqrt(1 - rho)).reshape(-1, dim)
    fake = rng.normal(size=(generated, dim))
    fake[:, :4] += shift
    return real, fake, np.repeat(np.arange(subjects), per)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--subjects", type=int, default=50)
    parser.add_argument("--per-subject", type=int, default=4)
    parser.add_argument("--generated", type=int, default=1000, help="Samples per model (the report's -n).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for shift in (0.0, 0.5):
        ours_p, old_p, ours_t, old_t = [], [], [], []
        for _ in range(args.studies):
            real, fake, ids = study(rng, shift, args.subjects, args.per_subject, args.generated)
            seed = int(rng.integers(2**31))
            began = time.perf_counter()
            ours_p.append(knn_two_sample(real, fake, ids, seed=seed).p_value)  # the report's 1,000 permutations
            ours_t.append(time.perf_counter() - began)
            began = time.perf_counter()
            old_p.append(binomial_cv_test(real, fake, seed))
            old_t.append(time.perf_counter() - began)
        what = "null (no difference)" if shift == 0 else f"{shift} SD in 4 of 16 dimensions"
        for name, p, t in (("ours: permutation by subject", ours_p, ours_t),
                           ("before: cross_val_predict + binomial", old_p, old_t)):
            rows.append({"case": what, "test": name, "rejected_at_5%": round(float(np.mean(np.array(p) <= 0.05)), 3),
                         "median_ms": round(1000 * statistics.median(t), 1)})
    meta = {**machine(), "studies": args.studies, "subjects": args.subjects, "per_subject": args.per_subject,
            "generated": args.generated, "within_subject_correlation": 0.8, "dimensions": 16}
    print(write_results(args.out, "twosample", "Fig. 6 two-sample test: level, power and time", meta, rows))


if __name__ == "__main__":
    main()
