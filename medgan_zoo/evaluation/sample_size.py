"""What a Fréchet distance means at the sizes it was computed on.

The Fréchet distance is biased upward by an amount that shrinks as 1/n (Chong & Forsyth, 2020) and
depends on the model, so two GANs scored on a few hundred samples can swap places at 10,000. With
fewer samples than feature dimensions the covariance is singular. Every FID-like record carries
both sample sizes and, below :data:`RANKING_SAMPLES` on either side, a flag and a note in words.
"""

from __future__ import annotations

from typing import Any

#: Below this many samples on either side a Fréchet distance is flagged as not for ranking (the
#: Inception pool3 dimension, the usual minimum; the paper uses 10,000).
RANKING_SAMPLES = 2048


def frechet_sizes(n_generated: int, n_real: int, dimensions: int) -> dict[str, Any]:
    """``n_generated``, ``n_real``, ``covariance`` ('full rank' or why not), ``small_sample`` and,
    when small, a ``note`` saying what the number can and cannot be used for."""
    smaller = min(n_generated, n_real)
    covariance = ("full rank" if smaller > dimensions else
                  f"singular: {smaller} samples for {dimensions} dimensions (rank at most {smaller - 1})")
    small = smaller < RANKING_SAMPLES
    values: dict[str, Any] = {"n_generated": n_generated, "n_real": n_real, "covariance": covariance,
                              "small_sample": small}
    if small:
        values["note"] = (f"{n_generated} generated and {n_real} real samples (fewer than {RANKING_SAMPLES:,} on a "
                          "side): the distance is biased upward by a model-dependent amount, so it is not for "
                          "ranking models; rank by KID (unbiased) at this size, or use --scale paper")
    return values
