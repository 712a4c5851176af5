"""FID time and feature throughput against torch-fidelity's own ``calculate_metrics`` on the same
images and weights file, same run; and the matrix square root step against scipy's ``sqrtm``.

Offline, the weights are a randomly initialised Inception with calibrated batch norm (the speed of a
network does not depend on its values); pass ``--weights`` for the real 2015-12-05 file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from results_io import machine, write_results

from medgan_zoo.evaluation.fid import compute_fid
from medgan_zoo.evaluation.inception import make_random_weights
from medgan_zoo.evaluation.statistics import frechet_distance


class _Set(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200, help="Images per set.")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    import torch_fidelity

    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 256, (args.n, 3, args.resolution, args.resolution), dtype=torch.uint8, generator=g)
    b = (a.int() // 2 + 60).to(torch.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or make_random_weights(Path(tmp) / "inception.pth")
        compute_fid(a[:8], b[:8], weights=str(weights), device=args.device)  # warm-up both paths' caches
        ours, t_ours = _timed(lambda: compute_fid(a, b, weights=str(weights), device=args.device))
        theirs, t_theirs = _timed(lambda: torch_fidelity.calculate_metrics(
            input1=_Set(a), input2=_Set(b), fid=True, feature_extractor_weights_path=str(weights),
            cuda=args.device.startswith("cuda"), cache=False, verbose=False)["frechet_inception_distance"])

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3000, 2048)), rng.normal(size=(3000, 2048)) * 1.1
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    mu1, mu2 = x.mean(0), y.mean(0)

    def scipy_fd():
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))

    fd_scipy, t_scipy = _timed(scipy_fd)
    fd_ours, t_sqrt = _timed(lambda: frechet_distance(*(torch.from_numpy(v) for v in (mu1, s1, mu2, s2))))
    images = 2 * args.n
    rows = [
        {"case": "FID, torch-fidelity calculate_metrics", "seconds": round(t_theirs, 3),
         "images_per_s": round(images / t_theirs, 1), "value": theirs, "speed_ratio": 1.0},
        {"case": "FID, medgan-zoo compute_fid", "seconds": round(t_ours, 3), "images_per_s": round(images / t_ours, 1),
         "value": ours, "speed_ratio": round(t_theirs / t_ours, 3)},
        {"case": "FD from 2048-d statistics, scipy sqrtm", "seconds": round(t_scipy, 3), "images_per_s": "-",
         "value": fd_scipy, "speed_ratio": 1.0},
        {"case": "FD from 2048-d statistics, medgan-zoo (eigh)", "seconds": round(t_sqrt, 3), "images_per_s": "-",
         "value": fd_ours, "speed_ratio": round(t_scipy / t_sqrt, 3)},
    ]
    meta = {**machine(), "device": args.device, "images_per_set": args.n, "resolution": args.resolution,
            "weights": "given" if args.weights else "random, calibrated", "fid_relative_difference":
            abs(ours - theirs) / abs(theirs), "fd_relative_difference": abs(fd_ours - fd_scipy) / abs(fd_scipy)}
    print(write_results(args.out, f"fid_{torch.device(args.device).type}", "FID vs torch-fidelity", meta, rows))
    print(f"FID relative difference {meta['fid_relative_difference']:.2e}; "
          f"FD (sqrt step) relative difference {meta['fd_relative_difference']:.2e}")


if __name__ == "__main__":
    main()
