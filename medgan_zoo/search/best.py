"""``sweep best``: the best trial's model folder, exported where ``load`` finds it."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ConfigError
from .status import open_existing, study_rows

MODEL_FILES = ("config.json", "model.safetensors", "README.md", "samples.png")


def best_row(name: str, storage: str | None = None, folder: str | Path | None = None,
             by: str | None = None) -> tuple[dict, Path]:
    """The best trial's row and the study folder (two objectives: the front's best by ``by``)."""
    opened, path, settings = open_existing(name, storage, folder)
    _, best = study_rows(opened, name)
    if not best:
        raise ConfigError(f"study {name!r} has no completed trial yet")
    metric = by or settings.objectives[0]
    if metric not in settings.objectives:
        raise ConfigError(f"--by {metric!r} is not an objective of study {name!r} ({', '.join(settings.objectives)})")
    i = settings.objectives.index(metric)
    pick = min if settings.directions[i] == "minimize" else max
    return pick(best, key=lambda r: r[metric]), path


def export_best(name: str, out: str | Path, storage: str | None = None, folder: str | Path | None = None,
                by: str | None = None) -> tuple[int, Path]:
    """Copy the best trial's model files (and its evaluation) to ``out``; returns (trial, out)."""
    row, path = best_row(name, storage, folder, by)
    source = path / row["folder"]
    if not (source / "model.safetensors").is_file():
        raise ConfigError(f"trial {row['trial']}'s folder {source} holds no model.safetensors (is the study "
                          "folder on this machine?)")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "model.safetensors").exists():
        raise ConfigError(f"{out} exists and is not a model folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    for item in MODEL_FILES:
        if (source / item).exists():
            shutil.copy2(source / item, out / item)
    if (source / "evaluation").is_dir():
        shutil.copytree(source / "evaluation", out / "evaluation", dirs_exist_ok=True)
    return int(row["trial"]), out
