"""How many scored images a reader study needs: the power of Fisher's exact test, computed exactly.

A rater at balanced accuracy ``b`` (sensitivity = specificity = ``b``) answers ``n_generated``
generated and ``n_real`` real images; Fisher's two-sided exact test of their 2x2 table (answer x
truth) rejects at ``alpha`` with the probability summed over every table the rater can produce."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

BALANCED_ACCURACIES = (0.6, 0.7, 0.8, 0.9)
IMAGES = (20, 50, 100, 200)


@lru_cache(maxsize=32)
def fisher_p_values(n_generated: int, n_real: int) -> np.ndarray:
    """``[n_generated + 1, n_real + 1]``: the two-sided Fisher p-value of the table whose generated
    images were called generated ``x`` times and whose real images ``y`` times. With the row totals
    fixed, each column total ``x + y`` gives a hypergeometric distribution of ``x``; the p-value
    sums the probabilities not above the observed one (with scipy's relative tolerance 1e-7)."""
    from scipy.stats import hypergeom

    total = n_generated + n_real
    p = np.ones((n_generated + 1, n_real + 1))
    for said in range(1, total):  # all "real" or all "generated": the answer carries no information, p = 1
        xs = np.arange(max(0, said - n_real), min(n_generated, said) + 1)
        pmf = hypergeom.pmf(xs, total, n_generated, said)
        for x, own in zip(xs, pmf, strict=True):
            p[x, said - x] = min(1.0, float(pmf[pmf <= own * (1 + 1e-7)].sum()))
    return p


def power(balanced_accuracy: float, n_generated: int, n_real: int, alpha: float = 0.05) -> float:
    """Chance that a rater at ``balanced_accuracy`` is found (two-sided Fisher test at ``alpha``)."""
    from scipy.stats import binom

    called_generated = binom.pmf(np.arange(n_generated + 1), n_generated, balanced_accuracy)
    real_called_generated = binom.pmf(np.arange(n_real + 1), n_real, 1 - balanced_accuracy)
    reject = fisher_p_values(n_generated, n_real) <= alpha
    return float(called_generated @ reject @ real_called_generated)


def split(images: int, real_fraction: float) -> tuple[int, int]:
    """(generated, real) scored images of a study of ``images`` at ``real_fraction``."""
    real = int(round(images * real_fraction))
    return images - real, real


def power_table(real_fraction: float = 0.5, images: tuple[int, ...] = IMAGES,
                accuracies: tuple[float, ...] = BALANCED_ACCURACIES,
                alpha: float = 0.05) -> dict[int, dict[float, float]]:
    """images per rater -> balanced accuracy -> power."""
    return {n: {b: power(b, *split(n, real_fraction), alpha) for b in accuracies} for n in images}


def guidance(images: int, real_fraction: float) -> str:
    """One line for a study of ``images`` scored images per rater."""
    found = ", ".join(f"{b:.1f}: {power(b, *split(images, real_fraction)):.0%}" for b in BALANCED_ACCURACIES)
    return (f"with {images} scored images per rater, the chance that a rater who tells real from generated at "
            f"balanced accuracy 0.6/0.7/0.8/0.9 is found (Fisher's exact test at 5%) is {found}; "
            "docs/turing-test.md has the table")
