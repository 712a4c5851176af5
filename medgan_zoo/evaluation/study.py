"""The Table 2 study: train (or load) every GAN on every data set, sample, evaluate, tabulate, with
the real-data baselines and, for the paper's data sets, the paper's own numbers alongside."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..device import default_device
from ..errors import ConfigError
from ..jsonsafe import dumps
from ..progress import Progress, say
from .harness import PAPER_SAMPLES, QUICK_SAMPLES, RECORD_FORMAT, EvaluationError, default_metrics, evaluate

QUICK_TRAINING = {"steps": 300, "resolution": 32}
PAPER_TRAINING = {"steps": 20000, "resolution": 128}


def paper_table() -> dict[str, Any]:
    """The paper's Table 2 as data (``paper_table2.json``, with its source)."""
    return json.loads(resources.files("medgan_zoo.evaluation").joinpath("paper_table2.json").read_text())


def _paper_lookup() -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dataset"], r["source"]): r for r in paper_table()["rows"]}


def study(gans: list[str], datasets: list[str], out: str | Path, *, scale: str = "quick",
          steps: int | None = None, resolution: int | None = None, n: int | None = None,
          metrics: list[str] | None = None, data_roots: dict[str, Path] | None = None,
          dataset_config: dict[str, Any] | None = None, metric_config: dict[str, dict[str, Any]] | None = None,
          gan_config: dict[str, dict[str, Any]] | None = None, seed: int = 0, progress: bool = True,
          report: bool | None = None) -> Path:
    """Run the study into ``out``; writes ``table2.md``, ``table2.csv`` and ``table2.json``, and per
    data set the HTML report of its models (``report-DATASET/index.html``: Figs. 5 and 6) when
    ``report`` is True, or None and the ``report`` extra is installed.

    A run folder ``out/GAN-DATASET`` that already holds a model is loaded, not retrained, and one
    whose evaluation of the same metrics, scale, seed and sample count finished is read back, not
    re-run. Each cell's stages are reported (stderr and ``out/study.log``). ``gan_config`` holds
    config fields per GAN name (``{"ddpm": {"preset": "fast"}}``); GANs not named train with defaults.
    ``metrics`` defaults to the metrics marked ``default`` that can run here; those marked
    ``every_study`` (the near-copy fraction) are added to any choice. Each metric is a column
    (its headline); a metric's ``study`` settings apply to the models, and a metric with ``baseline``
    settings also scores the real training data, giving the real-data rows.
    """
    from ..model import load
    from ..registry import get_registry
    from ..sampling import Samples
    from ..training.engine import train

    registry = get_registry()
    for name in gans:
        registry.gans[name]  # unknown names fail before any work
    for name in datasets:
        registry.datasets[name]
    gan_config = gan_config or {}
    stray = sorted(set(gan_config) - set(gans))
    if stray:
        raise ConfigError(f"gan_config names {', '.join(stray)}, which the study does not train (gans: "
                          f"{', '.join(gans)})")
    for gan, fields in gan_config.items():  # before any work: a misspelt field would fail after the baselines
        spec = registry.gans[gan]
        unknown = sorted(set(fields) - set(spec.config.model_fields))
        if unknown:
            raise ConfigError(f"{spec.label} has no config field {', '.join(map(repr, unknown))} (medgan-zoo "
                              f"plugins show gan {gan} lists them)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    preset = QUICK_TRAINING if scale == "quick" else PAPER_TRAINING
    given_steps, steps = steps, steps or preset["steps"]
    resolution = resolution or preset["resolution"]
    metrics = list(metrics) if metrics else default_metrics()
    metrics += [m for m, spec in registry.metrics.items()
                if spec.every_study and m not in metrics and spec.unavailable() is None]
    specs = {m: registry.metrics[m] for m in metrics}
    n = n or (QUICK_SAMPLES if scale == "quick" else None)
    data_roots = data_roots or {}
    paper = _paper_lookup()
    user = metric_config or {}
    table: dict[tuple[str, str], dict[str, Any]] = {}  # (dataset, row label) -> row
    failed: dict[str, str] = {}  # "gan on dataset: metric" -> why

    def row(dataset: str, label: str, masks: str) -> dict[str, Any]:
        return table.setdefault((dataset, label), {"dataset": dataset, "source": label, "masks": masks, "cells": {}})

    lengths = {gan: _steps_for(gan, given_steps, scale, steps, resolution, gan_config.get(gan)) for gan in gans}
    if scale == "paper" and progress and default_device().type == "cpu":
        own = ", ".join(g for g in gans if lengths[g] is None)
        length = f"{steps} steps" + (f" ({own}: its own length)" if own else "")
        say(_paper_scale_warning(gans, datasets, metrics, user, length, resolution), log=out / "study.log")
    cells = Progress(len(datasets) * len(gans), "study", log=out / "study.log")
    for dataset in datasets:
        root = data_roots.get(dataset)
        common: dict[str, Any] = dict(scale=scale, data_root=root, dataset_config=dataset_config, seed=seed)
        with_baseline = [m for m, spec in specs.items() if spec.baseline is not None]
        if with_baseline:
            from ..factory import load_dataset

            real = load_dataset(dataset, root, "train", resolution, **(dataset_config or {}))
            baseline = evaluate(Samples(real.images, real.masks, seed, dict(real.label_map)), dataset, with_baseline,
                                metric_config={m: {**user.get(m, {}), **(specs[m].baseline or {})}
                                               for m in with_baseline},
                                out=out / f"baselines-{dataset}", progress=progress, strict=False, **common)
            for m in with_baseline:
                if baseline[m].get("failed"):
                    failed[f"real baselines on {dataset}: {m}"] = baseline[m]["error"]
                for label, cell in baseline[m]["headline"]["rows"].items():
                    row(dataset, label, "real")["cells"][m] = {**cell, "n": baseline[m].get("seeds")}
        for gan in gans:
            run = out / f"{gan}-{dataset}"
            if not (run / "config.json").exists():
                length = f"{lengths[gan]} steps" if lengths[gan] else "its own length"
                cells.note(f"{gan} on {dataset}: training {length} at {resolution} px")
                train(gan, dataset, out=run, data_root=root, resolution=resolution, steps=lengths[gan],
                      gan_config=gan_config.get(gan),
                      dataset_config=dataset_config, seed=seed, progress=progress, resume=(run / "train.json").exists())
            config = {m: {**user.get(m, {}), **specs[m].study} for m in metrics}
            model = load(run)
            _same_settings(model.info.gan_config, gan_config.get(gan) or {}, run)
            masks = model.gan.mask_origin
            row(dataset, gan, masks)["steps"] = model.info.training.get("steps")
            result = _finished(run / "evaluation" / "evaluation.json", metrics, scale, seed, n)
            if result is None:
                cells.note(f"{gan} on {dataset}: evaluating {', '.join(metrics)}")
                result = evaluate(model, dataset, metrics, n=n, metric_config=config, out=run / "evaluation",
                                  progress=progress, strict=False, **common)
            else:
                cells.note(f"{gan} on {dataset}: evaluated before, read from {run / 'evaluation'}")
            cells.update(cells.done + 1)
            for m in metrics:
                if result[m].get("failed"):
                    failed[f"{gan} on {dataset}: {m}"] = result[m]["error"]
                head = result[m]["headline"]
                seeds, small = result[m].get("seeds"), bool(result[m].get("small_sample"))
                row(dataset, gan, masks)["cells"][m] = {"value": head["value"], "std": head["std"], "n": seeds,
                                                        "small_sample": small, "failed": bool(result[m].get("failed"))}
                for label, cell in head["rows"].items():
                    if "{model}" in label:  # a row of this model's (real + generated); real-only rows come
                        row(dataset, label.replace("{model}", gan), f"real + {masks}")["cells"][m] = {
                            **cell, "n": seeds}
    cells.close()
    rows = [_row(r, metrics, paper) for r in table.values()]
    _write_tables(out, rows, {"scale": scale, "steps": steps, "resolution": resolution, "samples": n,
                              "metrics": metrics, "columns": {m: specs[m].title for m in metrics},
                              "better": {m: specs[m].better for m in metrics},
                              "paper_source": paper_table()["source"], "failed": failed})
    _reports(report, gans, datasets, out, n, seed, scale, data_roots, dataset_config, user, progress)
    if failed:
        raise StudyFailed(failed, out)
    return out


class StudyFailed(EvaluationError):
    """Some metric cells of a study failed; the tables (with those cells marked) are written."""

    def __init__(self, failed: dict[str, str], out: Path) -> None:
        self.failed = failed
        super().__init__(f"{len(failed)} metric cell(s) failed, the rest of {out / 'table2.md'} is complete: "
                         + "; ".join(f"{cell}: {why}" for cell, why in failed.items()))


REPORT_SAMPLES, MIN_REPORT_SAMPLES = 1000, 64  # the report samples on its own: not fewer than UMAP needs


def _reports(wanted: bool | None, gans: list[str], datasets: list[str], out: Path, n: int | None, seed: int,
             scale: str, data_roots: dict[str, Path], dataset_config: dict[str, Any] | None,
             metric_config: dict[str, dict[str, Any]], progress: bool) -> None:
    """The figures next to Table 2: one report per data set, its models side by side."""
    import importlib.util

    if wanted is False:
        return
    if wanted is None and importlib.util.find_spec("umap") is None:
        say("Figs. 5 and 6 were not drawn: the report needs the report extra (pip install 'medgan-zoo[report]')",
            enabled=progress, log=out / "study.log")
        return
    from ..reporting.build import report

    links = ["", "Figures 5 and 6 (samples beside real slices; UMAP of U-Net and Inception features with a "
             "two-sample number):", ""]
    for dataset in datasets:
        page = report([out / f"{gan}-{dataset}" for gan in gans], dataset, out=out / f"report-{dataset}",
                      data_root=data_roots.get(dataset), dataset_config=dataset_config,
                      n=min(max(n or REPORT_SAMPLES, MIN_REPORT_SAMPLES), REPORT_SAMPLES),
                      seed=seed, scale=scale, metric_config=metric_config, progress=progress)
        say(f"Figs. 5 and 6 for {dataset}: {page}", enabled=progress, log=out / "study.log")
        links.append(f"- {dataset}: [{page.relative_to(out)}]({page.relative_to(out)})")
    table = out / "table2.md"
    table.write_text(table.read_text().rstrip("\n") + "\n" + "\n".join(links) + "\n")


def _same_settings(recorded: dict[str, Any], given: dict[str, Any], run: Path) -> None:
    """A run folder the study would reuse must hold the model the given settings ask for."""
    differ = {k: recorded.get(k) for k, v in given.items() if json.loads(json.dumps(v)) != recorded.get(k)}
    if differ:
        asked = ", ".join(f"{k}={json.dumps(given[k])}" for k in differ)
        held = ", ".join(f"{k}={json.dumps(v)}" for k, v in differ.items())
        raise ConfigError(f"{run} holds a model trained with {held}, not {asked}: choose another --out, or delete "
                          "that folder to train it again")


def _steps_for(gan: str, given: int | None, scale: str, default: int, resolution: int,
               config: dict[str, Any] | None = None) -> int | None:
    """A cell's training steps: as given; at the paper scale, None for a GAN with a length of its
    own (StyleGAN2's 25,000 kimg, as NVIDIA's train.py); else the scale's default."""
    if given:
        return given
    if scale == "paper":
        from ..registry import get_registry

        if get_registry().gans[gan].make_config({"resolution": resolution, **(config or {})}).training_steps():
            return None
    return default


def _paper_scale_warning(gans: list[str], datasets: list[str], metrics: list[str],
                         metric_config: dict[str, dict[str, Any]], length: str, resolution: int) -> str:
    """The evaluation part of one cell, from a timed probe; training warns at its first step."""
    from ..registry import get_registry
    from .estimate import Probe, describe, estimate_metrics

    registry = get_registry()
    spec = registry.datasets[datasets[0]]
    instances = {m: registry.metrics[m].resolve_factory()(registry.metrics[m].make_config(metric_config.get(m, {})))
                 for m in metrics}
    seconds, parts = estimate_metrics(instances, Probe(PAPER_SAMPLES, resolution, spec.channels or 1,
                                                       len(spec.label_map or {0: "", 1: ""}),
                                                       default_device()))
    cells = len(gans) * len(datasets)
    return (f"paper scale on the CPU: {cells} cell(s), each training {length} at {resolution} px (the first "
            f"step's time gives that estimate) and evaluating for about {describe(seconds)} ({'; '.join(parts)}; "
            "from a short timed probe). The quick scale takes minutes: --scale quick (scale='quick' in Python).")


def _finished(path: Path, metrics: list[str], scale: str, seed: int, n: int | None) -> dict[str, Any] | None:
    """An earlier evaluation of the same metrics, scale, seed and sample count that ran to its end."""
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
        meta = result["meta"]
    except (ValueError, KeyError):
        return None
    same = (meta.get("format") == RECORD_FORMAT and meta.get("scale") == scale and meta.get("seed") == seed
            and (n is None or meta.get("samples") == n)
            and not meta.get("interrupted_during") and set(metrics) <= set(result)
            and not any(isinstance(result[m], dict) and result[m].get("failed") for m in metrics))
    return result if same else None


def _row(r: dict[str, Any], metrics: list[str], paper: dict) -> dict[str, Any]:
    """A flat row: dataset, source, masks, then per metric its value, its std and the paper's value."""
    published = paper.get((r["dataset"], r["source"]), {})
    flat = {"dataset": r["dataset"], "source": r["source"], "masks": r["masks"], "steps": r.get("steps")}
    for m in metrics:
        cell = r["cells"].get(m) or {}
        flat[m] = cell.get("value")
        flat[f"{m}_std"] = cell.get("std")
        if cell.get("n") is not None:
            flat[f"{m}_seeds"] = cell["n"]
        if cell.get("small_sample"):
            flat[f"{m}_small_sample"] = True
        if cell.get("failed"):
            flat[f"{m}_failed"] = True
    for m in metrics:
        if m in published:
            flat[f"paper_{m}"] = published[m]
    return flat


def _cell(value: Any, std: Any = None, seeds: int | None = None) -> str:
    """``0.512 ± 0.031 (3 seeds)``; a single seed says so (no spread to judge by); – for no value."""
    if value is None:
        return "–"
    spread = "" if std is None or seeds == 1 else f" ± {std:.3f}"
    count = "" if seeds is None else f" ({seeds} seed{'s' * (seeds != 1)})"
    return f"{value:.4g}{spread}{count}"


def _overlapping(rows: list[dict[str, Any]], metric: str, better: str | None) -> set[int]:
    """Rows (indices) whose mean +- sd over seeds overlaps the best row's of their data set: the
    seeds do not separate them from the best."""
    marked: set[int] = set()
    for dataset in {r["dataset"] for r in rows}:
        scored = [(i, r) for i, r in enumerate(rows) if r["dataset"] == dataset and r.get(metric) is not None
                  and r.get(f"{metric}_std") is not None and (r.get(f"{metric}_seeds") or 0) > 1]
        if len(scored) < 2:
            continue
        pick = min if better == "lower" else max
        best_i, best = pick(scored, key=lambda item: item[1][metric])
        low, high = best[metric] - best[f"{metric}_std"], best[metric] + best[f"{metric}_std"]
        for i, r in scored:
            if i != best_i and r[metric] - r[f"{metric}_std"] <= high and r[metric] + r[f"{metric}_std"] >= low:
                marked.update({i, best_i})
    return marked


def _write_tables(out: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    (out / "table2.json").write_text(dumps({"meta": meta, "rows": rows}, indent=2))
    with (out / "table2.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for r in rows for k in r)) or ["dataset"])
        writer.writeheader()
        writer.writerows(rows)
    columns: dict[str, str] = meta.get("columns") or {m: m for m in meta["metrics"]}
    better = meta.get("better") or {}
    paper_columns = [m for m in columns if any(f"paper_{m}" in r for r in rows)]
    titles = [f"{title} ({'↓' if better.get(m) == 'lower' else '↑'})" if m in better else title
              for m, title in columns.items()]
    lines = ["# Table 2, reproduced", "",
             f"Scale: {meta['scale']} (models trained by the study: {meta['steps']} steps at {meta['resolution']} "
             f"px; each row's own training steps are in its column; {meta['samples'] or 'default'} samples per GAN); "
             f"metrics: {', '.join(meta['metrics'])}.", "",
             "| dataset | source | masks | steps | "
             + " | ".join(titles + [f"paper {columns[m]}" for m in paper_columns])
             + " |", "| --- | --- | --- | --- |" + " --- |" * (len(columns) + len(paper_columns))]
    overlap = {m: _overlapping(rows, m, better.get(m)) for m in columns}
    for i, r in enumerate(rows):
        values = ["failed" if r.get(f"{m}_failed") else
                  _cell(r.get(m), r.get(f"{m}_std"), r.get(f"{m}_seeds")) + (" †" if r.get(f"{m}_small_sample") else "")
                  + (" ≈" if i in overlap[m] else "") for m in columns]
        values += [_cell(r.get(f"paper_{m}")) for m in paper_columns]
        steps = "–" if r.get("steps") is None else str(r["steps"])
        lines.append(f"| {r['dataset']} | {r['source']} | {r['masks']} | {steps} | " + " | ".join(values) + " |")
    if meta.get("failed"):
        lines += ["", "Failed (the metric raised; the other cells are unaffected): "
                  + "; ".join(f"{cell}: {why}" for cell, why in meta["failed"].items())]
    if any(r.get(f"{m}_small_sample") for r in rows for m in columns):
        lines += ["", "† Fewer than 2,048 samples on a side: a Fréchet distance biased upward by a model-dependent "
                  "amount, not for ranking; rank by KID (unbiased) or the Dice with its spread at this size "
                  "(docs/evaluation.md)."]
    if any(overlap.values()):
        lines += ["", "≈ The best row of its data set and the rows marked with it overlap within one standard "
                  "deviation over seeds: these seeds do not tell them apart."]
    if any(r.get(f"{m}_seeds") == 1 for r in rows for m in columns):
        lines += ["", "(1 seed): no spread over seeds was measured; at the quick scale one U-Net's Dice varies by "
                  "several hundredths between seeds, so small gaps between such cells mean nothing "
                  "(the metric's seeds setting: --set METRIC.seeds=3)."]
    lines += ["", "Masks: where each row's training masks come from. Unconditional GANs generate each mask with its "
              "image; a mask-conditioned GAN (SPADE) draws its image from a mask that is generated by a mask model, "
              "or taken from the real training masks (a bank), which gives it real anatomy the others must "
              "generate: compare such a row with that in mind.", "",
              f"Paper numbers: {meta['paper_source']}", ""]
    (out / "table2.md").write_text("\n".join(lines))
