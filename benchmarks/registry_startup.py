"""Start-up cost of plugin discovery, side by side with timm's registry and a bare torch import.

Each case runs in a fresh interpreter (cold module imports, warm OS file cache) ``--repeats`` times;
the median wall time is reported, and the ratio to medgan-zoo's own case.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_io import machine, write_results

CASES = {
    "python (empty)": "pass",
    "medgan_zoo: import + discover all plugins": (
        "import medgan_zoo; r = medgan_zoo.get_registry(); assert len(r.losses) >= 6"
    ),
    "medgan-zoo CLI module: import + list entries": (
        "import medgan_zoo.cli, medgan_zoo; medgan_zoo.get_registry().entries()"
    ),
    "timm: import + list_models()": "import timm; assert timm.list_models()",
    "torch: import": "import torch",
}
OURS = "medgan_zoo: import + discover all plugins"


def time_case(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    time_case(CASES["torch: import"], 1)  # warm the file cache once
    results = {name: time_case(code, args.repeats) for name, code in CASES.items()}
    ours = results[OURS]
    rows = [
        {"case": name, "median_s": round(t, 4), "ratio_to_medgan_zoo": round(t / ours, 2)}
        for name, t in results.items()
    ]
    meta = {**machine(), "repeats": args.repeats}
    table = write_results(args.out, "registry_startup", "Registry start-up", meta, rows)
    print(table)


if __name__ == "__main__":
    main()
