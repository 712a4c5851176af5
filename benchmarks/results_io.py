"""Writing a benchmark's rows as JSON and a Markdown table (shared by the scripts here)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def run_script(code: str, *args: str, env: dict | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process (its own wall time and peak memory) and return the JSON
    object it prints last."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}


class StageTimes:
    """Adds up the seconds spent inside wrapped functions, per stage name."""

    def __init__(self) -> None:
        from collections import defaultdict

        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        import time

        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - began

        setattr(owner, name, timed)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if 0.01 <= abs(value) < 1e4 or value == 0 else f"{value:.3g}"
    return str(value)


def write_results(out: Path, name: str, title: str, meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Write ``out/name.json`` and ``out/name.md``; return the Markdown table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    columns = list(dict.fromkeys(key for row in rows for key in row))  # rows may differ in their keys
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = [_cell(row.get(c, "-")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    (out / f"{name}.md").write_text(f"# {title}\n\n{meta}\n\n{table}\n")
    return table
