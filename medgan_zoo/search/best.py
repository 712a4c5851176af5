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
    """Copy the best trial's model files (and its evaluation on the validation split, which chose
    it) to ``out``; returns (trial, out)."""
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


def evaluate_best(name: str, out: str | Path, storage: str | None = None, folder: str | Path | None = None,
                  data_root: str | Path | None = None, device: str | None = None,
                  progress: bool = True) -> dict:
    """Score the exported best model once on the test split, with the study's objectives and
    settings, into ``out/evaluation-test`` (the model is not retrained: it was trained on the
    training subjects minus the validation share and chosen on that share)."""
    from ..evaluation.harness import evaluate

    _, _, settings = open_existing(name, storage, folder)
    return evaluate(Path(out), settings.dataset, list(settings.objectives), n=settings.samples, scale=settings.scale,
                    data_root=data_root, dataset_config=settings.dataset_config,
                    metric_config={k: {f: x for f, x in v.items() if not (f == "split" and x == "val")}
                                   for k, v in settings.metric_config.items() if k in settings.objectives},
                    seed=settings.seed, device=device, out=Path(out) / "evaluation-test", progress=progress,
                    split="test")
