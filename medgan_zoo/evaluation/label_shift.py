"""Class shares of generated samples, corrected for the classifier's errors (black-box shift
estimation, Lipton, Wang & Smola, 2018).

A classifier trained on real slices predicts each generated sample's class. Its predictions are
wrong in a measured way: on held-out real slices, ``M[i, j]`` = P(predicted j | true class i). If
generated slices of class i look like real ones of class i (the method's assumption: p(x | class)
is the same for real and generated, which GAN artefacts can break), the predicted shares are
``M^T q`` for the true generated shares ``q``: solving for ``q`` (clipped at 0, renormalised) undoes
the classifier's errors instead of comparing two equally blurred histograms. Intervals come from a
bootstrap that resamples the held-out real subjects (for ``M``) and the generated samples (for
the predicted shares). With an ill-conditioned ``M`` (a classifier that confuses classes wholesale)
the solution amplifies noise: no verdict is given then.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Above this condition number of the confusion matrix no class is declared missing. Below it the
#: bootstrap intervals carry the matrix's uncertainty (they widen as it grows). Measured: the cardiac
#: phantom's five-class slice classifier (63% accurate, normal confused with MINF and RV) has 24, and
#: still tells the classes it separates (DCM, HCM) missing from the ones it cannot.
MAX_CONDITION = 50.0


def _solve(truth: np.ndarray, predicted_real: np.ndarray, predicted_generated: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(truth * k + predicted_real, minlength=k * k).reshape(k, k).astype(np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    m = np.divide(counts, rows, out=np.eye(k), where=rows > 0)
    observed = np.bincount(predicted_generated, minlength=k).astype(np.float64) / max(len(predicted_generated), 1)
    q = np.linalg.lstsq(m.T, observed, rcond=None)[0]
    q = np.clip(q, 0, None)
    return q / q.sum() if q.sum() > 0 else np.full(k, 1 / k)


def corrected_shares(truth: np.ndarray, predicted_real: np.ndarray, predicted_generated: np.ndarray, k: int,
                     real_share: np.ndarray | None = None, missing_fraction: float = 0.5, bootstrap: int = 500,
                     confidence: float = 0.95, seed: int = 0, max_condition: float = MAX_CONDITION,
                     subjects: np.ndarray | None = None) -> dict[str, Any]:
    """The generated class shares, their intervals, the total variation distance to ``real_share``
    (default: the held-out real slices' true shares) with its interval, the classes missing (the
    upper bound of the generated share below ``missing_fraction`` of the real share), the
    confusion matrix's condition number and, above ``max_condition``, why no verdict is given.
    ``subjects`` (one id per held-out slice): the bootstrap resamples subjects, whose slices share a
    class and the classifier's mistakes (None: every slice independent)."""
    truth, predicted_real = np.asarray(truth, dtype=np.int64), np.asarray(predicted_real, dtype=np.int64)
    predicted_generated = np.asarray(predicted_generated, dtype=np.int64)
    fixed_share = real_share is not None
    if real_share is None:
        real_share = np.bincount(truth, minlength=k) / max(len(truth), 1)
    if subjects is not None:
        ids = np.unique(np.asarray(subjects), return_inverse=True)[1]
        members = [np.flatnonzero(ids == i) for i in range(ids.max() + 1)]
    counts = np.bincount(truth * k + predicted_real, minlength=k * k).reshape(k, k).astype(np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    matrix = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    condition = float(np.linalg.cond(matrix)) if (rows > 0).all() else float("inf")
    estimate = _solve(truth, predicted_real, predicted_generated, k)
    rng = np.random.default_rng(seed)
    draws = np.empty((bootstrap, k))
    tvds = np.empty(bootstrap)
    for b in range(bootstrap):
        if subjects is None:
            r = rng.integers(0, len(truth), len(truth))
        else:
            r = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        g = rng.integers(0, len(predicted_generated), len(predicted_generated))
        draws[b] = _solve(truth[r], predicted_real[r], predicted_generated[g], k)
        share = real_share if fixed_share else np.bincount(truth[r], minlength=k) / len(r)
        tvds[b] = 0.5 * np.abs(draws[b] - share).sum()
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, tail, axis=0), np.quantile(draws, 1 - tail, axis=0)
    out: dict[str, Any] = {
        "share": estimate, "low": low, "high": high,
        "tvd": float(0.5 * np.abs(estimate - real_share).sum()),
        "tvd_low": float(np.quantile(tvds, tail)), "tvd_high": float(np.quantile(tvds, 1 - tail)),
        "condition_number": condition, "real_share": np.asarray(real_share, dtype=np.float64),
    }
    if not condition <= max_condition:
        out["missing"] = None
        out["note"] = (f"no verdict on missing classes: the classifier's confusion matrix is ill-conditioned "
                       f"(condition number {condition:.3g} > {max_condition:g}), so correcting its errors would "
                       "amplify noise; train it longer (mode-coverage.steps) or on more data")
    else:
        out["missing"] = [i for i in range(k) if high[i] < missing_fraction * real_share[i]]
    return out
