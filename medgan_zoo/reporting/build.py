"""``medgan_zoo.report(...)`` / ``medgan-zoo report``: the paper's Figs. 5 and 6 as one offline page."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..jsonsafe import dumps
from ..progress import Progress, stage_context
from .embed import UmapParams, embed, figure
from .needs import require_report
from .page import render
from .twosample import knn_two_sample

MARKER = "report.json"
PAGE = "index.html"
GRID_COUNT, GRID_COLUMNS = 16, 4


def _label(source: Any, model) -> str:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.name if path.is_dir() else str(source)
    return f"{model.info.gan}"


def _slug(label: str, taken: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.") or "model"
    base, i = slug, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _evaluation(source: Any) -> tuple[dict[str, Any], str | None]:
    """The model's evaluation results when they lie beside it (``evaluate --out``/``study`` folders)."""
    if not isinstance(source, (str, Path)) or not Path(source).is_dir():
        return {}, None
    path = Path(source) / "evaluation" / "evaluation.json"
    if not path.is_file():
        return {}, None
    records = json.loads(path.read_text())
    return {k: v for k, v in records.items() if k != "meta" and isinstance(v, dict)}, str(path)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise ConfigError(f"{out} exists and is not a report folder (no {MARKER}); choose another --out")


def report(models: list[Any], dataset: str, *, out: str | Path, data_root: str | Path | None = None,
           dataset_config: dict[str, Any] | None = None, n: int = 1000, seed: int = 0, scale: str = "quick",
           device: str | None = None, inception_weights: str | Path | None = None, neighbours: int = 15,
           min_dist: float = 0.1, knn: int | None = None, folds: int = 5, per_subject: int = 4,
           permutations: int = 1000, metric_config: dict[str, dict[str, Any]] | None = None,
           progress: bool = True) -> Path:
    """Write ``out/index.html`` for ``models`` (folders, ``hf://`` names, catalogue names or
    ``GanModel`` objects) trained on ``dataset``: Fig. 5 (sample grids beside real slices), their
    evaluation results, Fig. 6 (UMAP of U-Net and, with weights, Inception features, each panel
    with a kNN two-sample test) and memorisation (per model, the distances of its samples to their
    nearest training images beside those of real test images, its near-copies and closest pairs;
    settings from ``metric_config["memorisation"]``). ``metric_config`` holds the settings of the metrics whose
    networks give the feature spaces (the U-Net FD metric's reference U-Net): the same settings
    reuse the same cached network. The real side of Fig. 6 is the test split (neither the generators
    nor the feature networks saw it), at most ``per_subject`` slices per subject at seeded random
    positions; the test's ``knn`` (None: grows with the data), ``folds`` and ``permutations`` are
    those of :func:`~medgan_zoo.reporting.twosample.knn_two_sample`. Returns the page's path."""
    require_report()
    from ..device import resolve_device
    from ..factory import load_dataset
    from ..model import load
    from ..registry import get_registry

    if not models:
        raise ConfigError("name at least one model")
    out = Path(out)
    _check_out(out)
    params = UmapParams(n_neighbors=neighbours, min_dist=min_dist, random_state=seed)
    if per_subject < 1:
        raise ConfigError(f"per_subject must be at least 1, got {per_subject}")
    if n <= neighbours:
        raise ConfigError(f"UMAP with {neighbours} neighbours needs more samples per model: -n {neighbours + 1} at "
                          f"least (got {n})")
    spec = get_registry().datasets[dataset]
    from ..metric import config_at_scale

    memorisation = config_at_scale(get_registry().metrics["memorisation"], scale,  # bad settings: before any work
                                   dict((metric_config or {}).get("memorisation", {})))
    loaded = [(source, source if hasattr(source, "sample") else load(source)) for source in models]
    labels = [_label(source, model) for source, model in loaded]
    where = {(m.info.dataset, m.info.resolution) for _, m in loaded}
    if len(where) > 1:
        listing = ", ".join(f"{label} ({m.info.dataset}, {m.info.resolution}px)"
                            for label, (_, m) in zip(labels, loaded, strict=True))
        raise ConfigError(f"one report compares models of one data set and resolution; got {listing}")
    for label, (_, m) in zip(labels, loaded, strict=True):
        if spec.label_map is not None and m.info.label_map != spec.label_map:
            raise ConfigError(f"{label}'s label map {m.info.label_map} differs from {dataset}'s {spec.label_map}")
    resolution = loaded[0][1].info.resolution
    run_on = resolve_device(device)
    out.mkdir(parents=True, exist_ok=True)
    stages = 2 + 2 * len(loaded)
    with stage_context(out / "report.log", shown=progress), \
            Progress(stages, "report", enabled=progress, log=out / "report.log") as bar:
        real = load_dataset(dataset, data_root, "train", resolution, **(dataset_config or {}))
        held_out = load_dataset(dataset, data_root, "test", resolution, **(dataset_config or {}))
        for label, (_, m) in zip(labels, loaded, strict=True):
            if m.info.label_map != real.label_map:  # a data set whose labels come from its files
                raise ConfigError(f"{label}'s label map {m.info.label_map} differs from {dataset}'s {real.label_map}")
        real_pick = slices_per_subject(held_out.subject_index, per_subject, seed)
        _write_real_grid(real, out / "real.png", dataset)
        bar.update(1)
        taken: set[str] = set()
        entries, samples = [], []
        for i, (label, (source, model)) in enumerate(zip(labels, loaded, strict=True)):
            bar.note(f"{label}: sampling {n} pairs")
            batch = model.sample(n, seed=seed, device=device)
            samples.append(batch)
            slug = _slug(label, taken)
            from ..data.preview import save_grid

            save_grid(batch.grid(GRID_COUNT, GRID_COLUMNS), out / f"fig5_{slug}.png", f"{label} (seed {seed})",
                      batch.label_map, scale=max(1, 64 // resolution))
            metrics, metrics_source = _evaluation(source)
            entries.append({"label": label, "slug": slug, "grid": f"fig5_{slug}.png", "gan": model.info.gan,
                            "description": f"{model.info.gan}, {n} samples", "metrics": metrics,
                            "metrics_source": metrics_source})
            bar.update(2 + i)
        from ..evaluation.features import report_spaces

        spaces, missing = report_spaces(real, scale, run_on, inception_weights, metric_config)
        notes = [] if missing is None else [f"Inception's feature space is not shown: {missing}"]
        real_subjects = held_out.subject_index[real_pick].numpy()
        space_data = []
        for space in spaces:
            # each part its own step: features of the real slices and of every model, every model's
            # two-sample test (its permutations), the UMAP of all points
            parts = Progress(2 + 2 * len(samples), f"report: {space.name} space", enabled=progress,
                             log=out / "report.log")
            with parts:
                parts.note(f"{space.name} space: features of {len(real_pick)} real test slices")
                real_features = space.real(held_out)[real_pick].float().numpy()
                parts.update(1)
                generated = []
                for k, s in enumerate(samples):
                    generated.append(space.features(s.images).float().numpy())
                    parts.update(2 + k)
                tests = []
                for k, g in enumerate(generated):
                    parts.note(f"{space.name} space: two-sample test of {labels[k]} ({permutations} permutations)")
                    tests.append(knn_two_sample(real_features, g, real_subjects, k=knn, folds=folds, seed=seed,
                                                permutations=permutations))
                    parts.update(2 + len(samples) + k)
                parts.note(f"{space.name} space: UMAP of {len(real_pick) + sum(len(g) for g in generated)} points")
                real_xy, model_xy = embed(real_features, generated, params)
                parts.update(parts.total)
            name = f"fig6_{space.name}.png"
            figure(out / name, space.title, real_xy, model_xy, labels, tests)
            space_data.append({"name": space.name, "title": space.title, "figure": name,
                               "weights_sha256": space.weights_sha256,
                               "tests": {label: t.as_dict() for label, t in zip(labels, tests, strict=True)}})
            bar.update(min(stages, bar.done + len(loaded)))
        bar.note(f"memorisation: nearest training images of {n} samples per model")
        from .memorisation import Memorisation, unet_embedding

        panel = Memorisation(real, held_out, memorisation, unet_embedding(spaces))
        for entry, batch in zip(entries, samples, strict=True):
            entry["memorisation"] = panel.model(batch, entry["label"], entry["slug"], out)
        import umap

        from .._version import __version__

        data = {"title": f"medgan-zoo report: {', '.join(labels)} on {dataset}",
                "summary": f"{len(loaded)} model(s) trained on {dataset} at {resolution}x{resolution}, compared "
                           f"with {len(real_pick)} real test slices of {len(set(real_subjects.tolist()))} subjects.",
                "dataset": dataset, "resolution": resolution, "samples": n, "seed": seed, "scale": scale,
                "real_grid": "real.png", "models": entries, "spaces": space_data, "notes": notes,
                "umap": {"version": getattr(umap, "__version__", "?"), "params": params.as_dict(),
                         "fitted_on": "real and every model's samples together"},
                "knn": {"k": next(iter(space_data[0]["tests"].values()))["k"], "folds": folds,
                        "per_subject": per_subject, "permutations": permutations, "real_split": "test"},
                "version": __version__,
                "created": datetime.datetime.now().isoformat(timespec="seconds")}
        (out / PAGE).write_text(render(data))
        (out / MARKER).write_text(dumps(data, indent=2, default=_plain))
        bar.update(stages)
    return out / PAGE


def slices_per_subject(subject_index: torch.Tensor, per_subject: int, seed: int) -> torch.Tensor:
    """At most ``per_subject`` slices of each subject at seeded random positions (sorted): every
    position as likely as in the data, which evenly spaced or end slices would not be."""
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for subject in torch.unique(subject_index).tolist():
        rows = torch.nonzero(subject_index == subject).flatten()
        picks.append(rows[torch.randperm(len(rows), generator=generator)[:per_subject]])
    return torch.sort(torch.cat(picks)).values


def _write_real_grid(real, path: Path, dataset: str) -> None:
    from ..data.preview import overlay_grid, save_grid

    picks = torch.linspace(0, len(real) - 1, GRID_COUNT).round().long()
    save_grid(overlay_grid(real.images[picks], real.masks[picks], columns=GRID_COLUMNS), path,
              f"real {dataset} slices", real.label_map, scale=max(1, 64 // real.images.shape[-1]))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)
