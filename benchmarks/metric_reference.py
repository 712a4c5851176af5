"""PRDC and KID against their reference packages on the same feature tensors, same run: the values
(which must agree) and the time of each (ours / theirs).

PRDC: Naeem et al.'s ``prdc`` (scikit-learn distances) on continuous features and on features with
repeated points (a block of identical "empty slice" vectors and a generator that repeats some
images), with what the inclusive rule ``<=`` of medgan-zoo 0.1.0 gave there. KID: torch-fidelity's
``kid_features_to_metric`` with the generated set first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from results_io import machine, write_results

from medgan_zoo.evaluation.statistics import kernel_distance, prdc


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _inclusive_prdc(real: torch.Tensor, fake: torch.Tensor, k: int) -> dict[str, float]:
    """The rule medgan-zoo 0.1.0 used (``<=``), kept here only to show what it changed."""
    real_r = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    fake_r = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    cross = torch.cdist(real, fake)
    inside = cross <= real_r[:, None]
    return {"precision": float(inside.any(0).double().mean()),
            "recall": float((cross <= fake_r[None, :]).any(1).double().mean()),
            "density": float(inside.double().sum(0).mean() / k),
            "coverage": float((cross.min(1).values <= real_r).double().mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="Feature vectors per set (PRDC and KID).")
    parser.add_argument("--dim", type=int, default=128, help="PRDC feature dimension (the U-Net bottleneck's).")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    from prdc import compute_prdc
    from torch_fidelity.metric_kid import kid_features_to_metric

    g = torch.Generator().manual_seed(0)
    real = torch.randn(args.n, args.dim, generator=g, dtype=torch.float64)
    fake = torch.randn(args.n, args.dim, generator=g, dtype=torch.float64) * 1.03 + 0.02
    # ties: integer features, a tenth of the real set one repeated vector, a fifth of the fake set copies
    distinct = torch.randint(-4, 5, (args.n, 16), generator=g).double()
    real_t = torch.cat([distinct[: args.n * 9 // 10], distinct[:1].repeat(args.n // 10, 1)])
    fake_t = torch.cat([distinct[:1].repeat(args.n // 5, 1), distinct[args.n // 2: args.n // 2 + args.n * 4 // 5]])

    rows = []
    for case, (r, f) in {"continuous": (real, fake), "repeated points": (real_t, fake_t)}.items():
        theirs, t_theirs = _timed(lambda r=r, f=f: compute_prdc(r.numpy(), f.numpy(), args.k))
        ours, t_ours = _timed(lambda r=r, f=f: prdc(r, f, args.k))
        theirs = {key: float(v) for key, v in theirs.items()}
        rows.append({"case": f"PRDC {case}, prdc package", "seconds": round(t_theirs, 3), "speed_ratio": 1.0,
                     **{key: round(v, 4) for key, v in theirs.items()}})
        rows.append({"case": f"PRDC {case}, medgan-zoo", "seconds": round(t_ours, 3),
                     "speed_ratio": round(t_theirs / t_ours, 3), **{key: round(v, 4) for key, v in ours.items()},
                     "max_abs_difference": max(abs(ours[key] - theirs[key]) for key in theirs)})
        if case == "repeated points":
            old = _inclusive_prdc(r, f, args.k)
            rows.append({"case": "PRDC repeated points, 0.1.0's <= rule", "seconds": "-", "speed_ratio": "-",
                         **{key: round(v, 4) for key, v in old.items()}})

    kid_real = torch.randn(args.n, 2048, generator=g, dtype=torch.float64)
    kid_fake = torch.randn(args.n, 2048, generator=g, dtype=torch.float64) + 0.05
    size = min(1000, args.n // 2)
    theirs_kid, t_theirs = _timed(lambda: kid_features_to_metric(
        kid_fake, kid_real, kid_subsets=100, kid_subset_size=size, rng_seed=2020, verbose=False, kid_kernel="poly",
        kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1))
    (ours_kid, _), t_ours = _timed(lambda: kernel_distance(kid_fake, kid_real, 100, size, 2020))
    theirs_value = theirs_kid["kernel_inception_distance_mean"]
    rows.append({"case": "KID 2048-d, torch-fidelity", "seconds": round(t_theirs, 3), "speed_ratio": 1.0,
                 "kid": theirs_value})
    rows.append({"case": "KID 2048-d, medgan-zoo", "seconds": round(t_ours, 3),
                 "speed_ratio": round(t_theirs / t_ours, 3), "kid": ours_kid,
                 "max_abs_difference": abs(ours_kid - theirs_value)})
    meta = {**machine(), "vectors_per_set": args.n, "prdc_dim": args.dim, "k": args.k, "kid_subset_size": size,
            "kid_subsets": 100}
    print(write_results(args.out, "metric_reference", "PRDC and KID vs their reference packages", meta, rows))


if __name__ == "__main__":
    main()
