"""The sweep's sampler and pruner against plain random search, and the study machinery's overhead.

Side by side in one run, on the cardiac phantom at 32x32 with a CPU-sized DCGAN (Table 1 without
the filter rows, which are fixed small here), the same trial budget for both:
(a) random search without pruning, (b) the default TPE sampler with the median pruner.
Each runs with several seeds; we report the best objective (U-Net feature distance, quick scale)
and the compute spent (trial-steps: the steps every trial trained before it finished or was
pruned), median and spread, and the compute (b) needed to reach (a)'s median best.

Overhead: the time spent in the study machinery (claiming a trial from the storage, sampling its
parameters, reporting intermediate values, telling the result, the worker's status file) as a
fraction of the sweep's wall time. Minutes on a CPU; not part of the test suite.

    python benchmarks/sweep.py --seeds 5 --trials 8 --steps 60
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from results_io import StageTimes, machine, write_results

import medgan_zoo as zoo

FIXED = {"g_filters": 16, "d_filters": 16, "batch_size": 16, "vgg_weight": 0}
DATA = {"train_subjects": 12, "test_subjects": 4}


def space_file(folder: Path) -> Path:
    from medgan_zoo.search.space import default_space_path

    data = yaml.safe_load(default_space_path().read_text())
    for row in ("d_filters", "g_filters", "vgg_weight"):
        data["parameters"].pop(row)
    path = folder / "space.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def one(condition: str, seed: int, args, folder: Path) -> dict:
    sampler, pruner = ("random", "none") if condition == "random" else ("tpe", "median")
    began = time.perf_counter()
    result = zoo.sweep("dcgan", "acdc-phantom", trials=args.trials, study=f"{condition}-{seed}",
                       out=folder / f"{condition}-{seed}", space=space_file(folder), objective="unet-fd",
                       resolution=32, steps=args.steps, checkpoint_every=args.steps // 4, fixed=FIXED,
                       dataset_config=DATA, scale="quick", samples=128, sampler=sampler, pruner=pruner,
                       startup_trials=2, seed=seed, progress=False)
    wall = time.perf_counter() - began
    spent, trace, best = 0, [], float("inf")
    for row in sorted(result.rows, key=lambda r: r["trial"]):
        spent += row.get("pruned_at", args.steps) if row["state"] in ("complete", "pruned") else 0
        if row["state"] == "complete" and row["unet-fd"] is not None:
            best = min(best, row["unet-fd"])
        trace.append((spent, best))
    return {"condition": condition, "seed": seed, "best": best, "trial_steps": spent, "wall_s": wall,
            "pruned": sum(r["state"] == "pruned" for r in result.rows),
            "failed": sum(r["state"] == "fail" for r in result.rows), "trace": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    import optuna

    from medgan_zoo.search import worker

    clock = StageTimes()
    for owner, name in ((worker.Worker, "_claim"), (worker.Worker, "_status"), (worker.Worker, "_finished"),
                        (optuna.Study, "tell"), (optuna.trial.Trial, "report"),
                        (optuna.trial.Trial, "should_prune"), (optuna.trial.Trial, "set_user_attr"),
                        (worker, "suggest")):
        clock.wrap(owner, name, "machinery")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for condition in ("random", "tpe+median"):
                runs.append(one(condition, seed, args, Path(tmp)))
                r = runs[-1]
                print(f"{condition} seed {seed}: best {r['best']:.3f}, {r['trial_steps']} trial-steps, "
                      f"{r['pruned']} pruned, {r['wall_s']:.0f} s", flush=True)
    rows = []
    by = {c: [r for r in runs if r["condition"] == c] for c in ("random", "tpe+median")}
    target = statistics.median(r["best"] for r in by["random"])
    for condition, group in by.items():
        bests, spent = [r["best"] for r in group], [r["trial_steps"] for r in group]
        reach = [next((s for s, b in r["trace"] if b <= target), None) for r in group]
        reached = [s for s in reach if s is not None]
        rows.append({"condition": condition, "runs": len(group), "best (median)": statistics.median(bests),
                     "best (min-max)": f"{min(bests):.3f}-{max(bests):.3f}",
                     "trial-steps (median)": statistics.median(spent),
                     "trial-steps (min-max)": f"{min(spent)}-{max(spent)}",
                     "pruned trials": sum(r["pruned"] for r in group),
                     "trial-steps to reach random's median best (median)":
                         statistics.median(reached) if reached else "never",
                     "runs that reached it": f"{len(reached)}/{len(group)}"})
    wall = sum(r["wall_s"] for r in runs)
    machinery = clock.seconds["machinery"]
    meta = {**machine(), "trials": args.trials, "steps": args.steps, "seeds": args.seeds,
            "objective": "unet-fd, quick scale, 128 samples", "target (random's median best)": target,
            "machinery_seconds": round(machinery, 2), "wall_seconds": round(wall, 1),
            "machinery_fraction": round(machinery / wall, 4)}
    table = write_results(args.out, "sweep", "Sweep: TPE + median pruning vs random search", meta, rows)
    print(table)
    print(f"study machinery: {machinery:.1f} s of {wall:.0f} s ({100 * machinery / wall:.2f}%)")


if __name__ == "__main__":
    main()
