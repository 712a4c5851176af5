"""Run metric plugins on a model (or samples) against a data set, at the quick or the paper scale."""

from __future__ import annotations

import json
import math
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel

from ..data.slices import DatasetError
from ..device import resolve_device
from ..errors import ConfigError, MedganZooError
from ..jsonsafe import dumps
from ..metric import EvalContext, config_at_scale
from ..metric_result import checked_record, failed_record
from ..progress import Progress, say, stage_context

QUICK_SAMPLES = 256
PAPER_SAMPLES = 10000
#: Evaluation records written since the metric contract (evaluation.json's ``meta.format``).
RECORD_FORMAT = 2


class EvaluationError(MedganZooError):
    """Inputs that cannot be evaluated against the data set (channels, label map, NaN...)."""


def default_metrics(note=None) -> list[str]:
    """The metrics whose spec says ``default``, less those that cannot run here (``note`` is told why)."""
    from ..registry import get_registry

    chosen = []
    for name, spec in get_registry().metrics.items():
        if not spec.default:
            continue
        reason = spec.unavailable()
        if reason is None:
            chosen.append(name)
        elif note is not None:
            note(f"{name} left out: {reason}")
    return chosen


def _check_samples(samples, name: str, channels: int, label_map: dict[int, str], allow_nan: bool = False) -> None:
    images, masks = samples.images, samples.masks
    if images.shape[1] != channels:
        raise EvaluationError(f"the samples have {images.shape[1]} image channel(s) but {name} has {channels}")
    if not allow_nan and not torch.isfinite(images).all():
        bad = (~torch.isfinite(images)).flatten(1).any(1).nonzero().flatten().tolist()
        raise EvaluationError(f"samples {bad[:10]} contain NaN or inf")
    if samples.label_map and {int(k): v for k, v in samples.label_map.items()} != label_map:
        raise EvaluationError(f"the samples' label map {samples.label_map} differs from {name}'s {label_map}")
    if masks.numel() and int(masks.max()) >= len(label_map):
        raise EvaluationError(f"mask values up to {int(masks.max())} are outside {name}'s label map")


def data_shape(spec, load_train) -> tuple[int, dict[int, str]]:
    """A data set's image channels and label map: the spec's, or (a data set of the user's own
    files, whose spec leaves them to the data) its training split's."""
    if spec.channels is not None and spec.label_map is not None:
        return spec.channels, dict(spec.label_map)
    train = load_train()
    return train.channels, dict(train.label_map)


def evaluate(source: Any, dataset: str, metrics: tuple[str, ...] | list[str] | None = None, *,
             n: int | None = None, scale: str = "paper", data_root: str | Path | None = None,
             dataset_config: dict[str, Any] | None = None, metric_config: dict[str, dict[str, Any]] | None = None,
             seed: int = 0, device: str | None = None, out: str | Path | None = None,
             progress: bool = True, split: str = "test", strict: bool = True,
             allow_nan: bool = False, stages: bool | None = None) -> dict[str, Any]:
    """Evaluate a model (a GanModel, a model folder) or a ``Samples`` object against ``dataset``.

    ``metrics`` are metric plugin names (None: the default ones that can run here); ``metric_config``
    maps a metric's name to its config fields; ``scale="quick"`` applies each metric's quick preset
    and 256 samples (what CI and the demo run), ``"paper"`` the defaults (10,000 samples). Returns
    ``{metric: record}`` plus ``"meta"`` (a record is the metric's values with its ``reference``
    and ``headline``), and writes ``evaluation.json`` and ``evaluation.md`` to ``out`` when given.
    ``progress`` reports each stage (to stderr, and to ``out/evaluation.log``); ``stages`` (default:
    as ``progress``) shows only the long stages inside the metrics (a U-Net's training); after Ctrl-C the
    metrics finished so far are written to ``out`` before the interruption propagates. ``split`` is
    the held-out split the metrics score on: 'test' (the number to report) or 'val' (model
    selection; needs ``dataset_config={"val_fraction": ...}``); it is recorded in the meta.
    A metric that raises is recorded as failed with its reason (``{"failed": true, "error": ...}``)
    and the others still run; at the end :class:`MetricsFailed` is raised (``strict=False``: the
    results are returned with the failed records in them). ``allow_nan``: a model with NaN weights
    or samples is scored anyway, to look at it; the meta records how many samples held NaN and
    evaluation.md says such numbers are not scores.
    """
    from ..registry import get_registry
    from ..sampling import Samples

    if scale not in ("quick", "paper"):
        raise ConfigError(f"scale must be 'quick' or 'paper', got {scale!r}")
    if split not in ("val", "test"):
        raise ConfigError(f"split must be 'val' or 'test' (the held-out split metrics score on), got {split!r}")
    if split == "val" and not (dataset_config or {}).get("val_fraction"):
        raise ConfigError("split 'val' needs a validation share of the training subjects: "
                          "dataset_config={'val_fraction': 0.2} (--set dataset.val_fraction=0.2)")
    registry = get_registry()
    if metrics is None:
        metrics = default_metrics()
    specs = {name: registry.metrics[name] for name in metrics}
    data_spec = registry.datasets[dataset]
    settings = dict(metric_config or {})
    for name in settings:
        registry.metrics[name]  # an unknown metric name fails here, with suggestions
    configs = {name: config_at_scale(spec, scale, settings.get(name, {})) for name, spec in specs.items()}

    n = n or (QUICK_SAMPLES if scale == "quick" else PAPER_SAMPLES)
    if isinstance(source, (str, Path)):
        from ..model import load

        source = load(source, allow_nan=allow_nan)
    run_on = resolve_device(device)
    out_path = Path(out) if out is not None else None
    log = None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        log = out_path / "evaluation.log"
    model_info = None if isinstance(source, Samples) else source.info
    if model_info is not None and data_spec.label_map is not None and model_info.label_map != data_spec.label_map:
        raise EvaluationError(f"the model's label map {model_info.label_map} differs from {dataset}'s "
                              f"{data_spec.label_map}")
    instances = {name: spec.resolve_factory()(configs[name]) for name, spec in specs.items()}
    if scale == "paper" and run_on.type == "cpu" and progress:
        from ..distributed import sharing

        with sharing(False):  # under torchrun only rank 0 prints the estimate: its probe runs alone
            say(paper_scale_warning(source, instances, n, data_spec, run_on), log=log)
    samples = source if isinstance(source, Samples) else source.sample(n, seed=seed, device=device)
    ctx = EvalContext(samples, dataset, Path(data_root) if data_root else None, samples.images.shape[-1],
                      dict(dataset_config or {}), run_on, out_path, dict(configs), scale, settings, split)
    channels, label_map = data_shape(data_spec, lambda: ctx.real("train"))
    if model_info is not None and model_info.label_map != label_map:
        raise EvaluationError(f"the model's label map {model_info.label_map} differs from {dataset}'s {label_map}")
    _check_samples(samples, dataset, channels, label_map, allow_nan)
    results: dict[str, Any] = {}
    inner = progress if stages is None else stages
    with stage_context(log, shown=inner), Progress(len(specs), "evaluating", enabled=progress, log=log) as bar:
        for name in specs:
            bar.note(f"{name}: started ({len(samples)} samples against {dataset}, {scale} scale)")
            began = time.monotonic()
            try:
                results[name] = checked_record(specs[name], instances[name](ctx))
            except KeyboardInterrupt:
                if out_path is not None and results:
                    write_report(out_path, {**results, "meta": _meta(dataset, scale, samples, ctx, model_info,
                                                                    configs, interrupted=name)})
                raise
            except DatasetError:
                raise  # the real data is broken: no metric could run, and the error names the file
            except Exception as exc:  # noqa: BLE001 - one metric's failure never loses the others
                results[name] = failed_record(specs[name], exc)
                if log is not None:  # the whole traceback, for whoever debugs the plugin
                    with log.open("a") as handle:
                        handle.write("".join(traceback.format_exception(exc)))
            bar.note(f"{name}: {headline_text(results[name])} ({time.monotonic() - began:.0f} s)")
            bar.update(len(results))
    results["meta"] = _meta(dataset, scale, samples, ctx, model_info, configs)
    if allow_nan:  # forensics: say so in the record, and whether the samples held NaN at all
        bad = int((~torch.isfinite(samples.images)).flatten(1).any(1).sum())
        results["meta"]["allow_nan"] = True
        results["meta"]["non_finite_samples"] = bad
        if bad:
            results["meta"]["note"] = (f"{bad} of {len(samples)} samples hold NaN or infinite values (--allow-nan): "
                                       "the numbers above are not a model's scores")
    if out_path is not None:
        write_report(out_path, results)
    failed = failures(results)
    if failed and strict:
        raise MetricsFailed(failed, results)
    return results


class MetricsFailed(EvaluationError):
    """Some metrics raised; ``results`` holds every record, the failed ones with their reason
    (evaluation.json is written before this is raised)."""

    def __init__(self, failed: dict[str, str], results: dict[str, Any]) -> None:
        self.failed = failed
        self.results = results
        super().__init__(f"{len(failed)} metric(s) failed, the others were kept: "
                         + "; ".join(f"{name}: {reason}" for name, reason in failed.items()))


def failures(results: dict[str, Any]) -> dict[str, str]:
    """metric -> reason, for every failed record of ``results``."""
    return {name: record["error"] for name, record in results.items()
            if name != "meta" and isinstance(record, dict) and record.get("failed")}


def paper_scale_warning(source: Any, metrics: dict[str, Any], n: int, data_spec, device: torch.device) -> str:
    """How long a paper-scale evaluation will take here, from a probe of sampling and of each metric."""
    from .estimate import Probe, describe, estimate_metrics, seconds_per_call

    resolution = source.info.resolution if hasattr(source, "info") else source.images.shape[-1]
    channels = data_spec.channels or (source.info.image_channels if hasattr(source, "info") else source.images.shape[1])
    classes = len(data_spec.label_map or (source.info.label_map if hasattr(source, "info") else source.label_map))
    probe = Probe(n, resolution, channels, classes, device)
    total, parts = estimate_metrics(metrics, probe)
    if hasattr(source, "sample"):
        seconds = seconds_per_call(lambda: source.sample(4, seed=0, device=device), 1) / 4 * n
        total += seconds
        parts.insert(0, f"sampling {n}: {describe(seconds)}")
    at_least = "at least " if any(p.endswith("not estimated") for p in parts) else ""
    return (f"paper scale on the CPU: {at_least}about {describe(total)} ({'; '.join(parts)}), from a short timed "
            "probe. The quick scale takes minutes: --scale quick (scale='quick' in Python).")


def _meta(dataset: str, scale: str, samples, ctx: EvalContext, model_info, configs: dict[str, BaseModel],
          interrupted: str | None = None) -> dict[str, Any]:
    meta = {
        "dataset": dataset, "scale": scale, "samples": len(samples), "seed": samples.seed,
        "resolution": ctx.resolution, "dataset_config": ctx.dataset_config, "split": ctx.eval_split,
        "model": model_info.gan if model_info else None, "format": RECORD_FORMAT,
        "metric_config": {k: json.loads(v.model_dump_json()) for k, v in configs.items()},
    }
    if interrupted:
        meta["interrupted_during"] = interrupted
    return meta


def headline_text(record: dict[str, Any]) -> str:
    """``dice 0.512, dice_std 0.031``: the keys a metric's result shows (records from before the
    metric contract: their first four numbers); a failed metric's reason."""
    if record.get("failed"):
        return f"FAILED ({record['error']})"
    keys = (record.get("headline") or {}).get("shown")
    if not keys:
        keys = [k for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    return ", ".join(f"{k} {_fmt(record[k])}" for k in keys if record.get(k) is not None)


def reference_text(result: dict[str, Any]) -> str:
    """A metric's reference values (what real data gets), from its result's ``reference`` entry."""
    return ", ".join(f"{k} {_fmt(v)}" for k, v in (result.get("reference") or {}).items()) or "-"


def _rows_section(name: str, record: dict[str, Any], rows: dict[str, dict[str, Any]], model: str) -> list[str]:
    """The further rows a metric measured (e.g. a U-Net trained on real pairs), one table."""
    head = record["headline"]
    own = {"value": head["value"], "std": head["std"]}
    table = {"{model}": own, **rows}
    extra = sorted({k for cell in rows.values() for k in cell if k not in ("value", "std")})
    spread = any(cell.get("std") is not None for cell in table.values())
    over = "mean ± std over seeds" if spread else "one seed"
    lines = ["", f"## {name} by row", "", f"| row | {head['key']} ({over}) | " + " | ".join(extra) + " |",
             "| --- | --- |" + " --- |" * len(extra)]
    for label, cell in table.items():
        std = "" if cell.get("std") is None else f" ± {cell['std']:.3f}"
        value = "–" if cell.get("value") is None else f"{cell['value']:.3f}{std}"
        lines.append(f"| {label.replace('{model}', model)} | {value} | "
                     + " | ".join(_fmt(cell.get(k)) for k in extra) + " |")
    return lines


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _metric_specs() -> dict[str, Any]:
    from ..registry import get_registry

    return dict(get_registry().metrics)


def write_report(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(dumps(results, indent=2))
    meta = results["meta"]
    lines = [f"# Evaluation against {meta['dataset']}", "",
             f"{meta['samples']} generated samples (seed {meta['seed']}), {meta['resolution']}x{meta['resolution']}, "
             f"{meta['scale']} scale.", "", *([f"**{meta['note']}**", ""] if meta.get("note") else []),
             "| metric | result | reference | what it measures |",
             "| --- | --- | --- | --- |"]
    specs = _metric_specs()
    lines += [f"| {name} | {headline_text(result)} | {reference_text(result)} | "
              f"{specs[name].summary if name in specs else ''} |"
              for name, result in results.items() if name != "meta"]
    lines += ["", "The reference is what real data gets: 0 for a distance between feature distributions, "
              "the Dice of a U-Net trained on the real training pairs, the near-copy rate of real test images.",
              "", f"Held-out split scored: {meta.get('split', 'test')}."]
    notes = [f"- **{name}**: {result['note']}" for name, result in results.items()
             if name != "meta" and isinstance(result, dict) and result.get("note")]
    if notes:
        lines += ["", "Notes:", "", *notes]
    for name, result in results.items():
        rows = (result.get("headline") or {}).get("rows") if name != "meta" else None
        if rows:
            lines += _rows_section(name, result, rows, meta.get("model") or "generated")
    lines += ["", "Full results: `evaluation.json`.", ""]
    (out / "evaluation.md").write_text("\n".join(lines))
