"""Time to build the HTML report (Figs. 5 and 6) for 3 models x 1,000 samples at 64x64 on the CPU,
split into sampling, feature extraction, UMAP, the kNN two-sample tests and writing the page.
Goal: under 2 minutes on 2 cores without Inception. Run twice: with an empty cache (the reference
U-Net is trained at the quick scale and the real features computed) and with a warm one.

    python benchmarks/report.py
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from results_io import StageTimes, machine, write_results

DATA = {"train_subjects": 40, "test_subjects": 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDGAN_ZOO_CACHE"] = str(Path(tmp) / "cache")  # starts empty: the cold run pays everything
        os.environ["MEDGAN_ZOO_INCEPTION_WEIGHTS"] = str(Path(tmp) / "none")  # no Inception: U-Net space only
        import medgan_zoo as zoo
        from medgan_zoo.evaluation import features
        from medgan_zoo.model import GanModel
        from medgan_zoo.reporting import build

        models = []
        for i, gan in enumerate(("dcgan", "lsgan", "hingegan")):
            out = Path(tmp) / gan
            zoo.train(gan, "acdc-phantom", out=out, resolution=args.resolution, steps=20, dataset_config=DATA,
                      gan_config={"g_filters": 32, "d_filters": 32}, seed=i, progress=False)
            models.append(out)
        del os.environ["MEDGAN_ZOO_INCEPTION_WEIGHTS"]
        import torch

        torch.hub.set_dir(str(Path(tmp) / "hub"))  # nothing there: the page says Inception is absent
        stages = StageTimes()
        stages.wrap(GanModel, "sample", "sampling")
        stages.wrap(features, "report_spaces", "reference U-Net (train or load)")
        stages.wrap(features.FeatureSpace, "features", "features")
        stages.wrap(build, "embed", "UMAP")
        stages.wrap(build, "knn_two_sample", "kNN two-sample tests")
        stages.wrap(build, "figure", "figures and page")
        stages.wrap(build, "render", "figures and page")
        stages.wrap(build, "_write_real_grid", "figures and page")
        for run in ("empty cache", "warm cache"):
            stages.seconds.clear()
            began = time.perf_counter()
            zoo.report(models, "acdc-phantom", out=Path(tmp) / f"report-{run.split()[0]}", n=args.n,
                       dataset_config=DATA, progress=False)
            total = time.perf_counter() - began
            row = {"run": run, "total_s": round(total, 1)}
            row.update({k: round(v, 1) for k, v in stages.seconds.items()})
            row["other_s"] = round(total - sum(stages.seconds.values()), 1)
            rows.append(row)
            print(row, flush=True)
    meta = {**machine(), "models": 3, "samples": args.n, "resolution": args.resolution, "inception": False,
            "goal_s": 120, "torch_threads": torch.get_num_threads()}
    print(write_results(args.out, "report_cpu", "Report: 3 models x samples, CPU", meta, rows))


if __name__ == "__main__":
    main()
