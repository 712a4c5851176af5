"""Run metric plugins on a model (or samples) against a data set, at the quick or the paper scale."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel

from ..device import default_device
from ..errors import ConfigError, MedganZooError
from ..progress import Progress, say

#: The quick scale: what CI and the demo run (phantoms at 32-64 px, a few hundred samples and steps).
QUICK: dict[str, dict[str, Any]] = {
    "dice": {"steps": 150, "seeds": 1, "encoder_depth": 3, "decoder_channels": [32, 16, 8], "batch_size": 16},
    "unet-fd": {"steps": 150, "encoder_depth": 3, "decoder_channels": [32, 16, 8], "batch_size": 16},
    "kid": {"subsets": 20, "subset_size": 100},
}
QUICK_SAMPLES = 256
PAPER_SAMPLES = 10000
DEFAULT_METRICS = ("dice", "unet-fd", "memorisation")


class EvaluationError(MedganZooError):
    """Inputs that cannot be evaluated against the data set (channels, label map, NaN...)."""


@dataclass
class EvalContext:
    """What a metric sees: the generated samples, the real splits (loaded once), shared helpers."""

    samples: Any  # medgan_zoo.Samples
    dataset: str
    data_root: Path | None
    resolution: int
    dataset_config: dict[str, Any]
    device: torch.device
    out: Path | None
    configs: dict[str, BaseModel] = field(default_factory=dict)
    _real: dict[str, Any] = field(default_factory=dict)
    _unets: dict[str, Any] = field(default_factory=dict)

    def real(self, split: str):
        if split not in self._real:
            from ..factory import load_dataset

            self._real[split] = load_dataset(self.dataset, self.data_root, split, self.resolution,
                                             **self.dataset_config)
        return self._real[split]

    def metric_config(self, name: str, default: type[BaseModel]) -> BaseModel:
        return self.configs.get(name) or default()

    def reference_unet(self, config):
        from .reference import ReferenceUnet

        key = config.model_dump_json(exclude={"split"})
        if key not in self._unets:
            self._unets[key] = ReferenceUnet(self.real("train"), config, self.device)
        return self._unets[key]


def _check_samples(samples, spec) -> None:
    images, masks = samples.images, samples.masks
    if images.shape[1] != spec.channels:
        raise EvaluationError(f"the samples have {images.shape[1]} image channel(s) but {spec.name} has "
                              f"{spec.channels}")
    if not torch.isfinite(images).all():
        bad = (~torch.isfinite(images)).flatten(1).any(1).nonzero().flatten().tolist()
        raise EvaluationError(f"samples {bad[:10]} contain NaN or inf")
    if samples.label_map and {int(k): v for k, v in samples.label_map.items()} != spec.label_map:
        raise EvaluationError(f"the samples' label map {samples.label_map} differs from {spec.name}'s "
                              f"{spec.label_map}")
    if masks.numel() and int(masks.max()) >= len(spec.label_map):
        raise EvaluationError(f"mask values up to {int(masks.max())} are outside {spec.name}'s label map")


def evaluate(source: Any, dataset: str, metrics: tuple[str, ...] | list[str] = DEFAULT_METRICS, *,
             n: int | None = None, scale: str = "paper", data_root: str | Path | None = None,
             dataset_config: dict[str, Any] | None = None, metric_config: dict[str, dict[str, Any]] | None = None,
             seed: int = 0, device: str | None = None, out: str | Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Evaluate a model (a GanModel, a model folder) or a ``Samples`` object against ``dataset``.

    ``metrics`` are metric plugin names; ``metric_config`` maps a name to its config fields;
    ``scale="quick"`` uses the small U-Net budgets and 256 samples that CI and the demo run,
    ``"paper"`` the defaults (10,000 samples). Returns ``{metric: result}`` plus ``"meta"``, and
    writes ``evaluation.json`` and ``evaluation.md`` to ``out`` when given. ``progress`` reports
    each stage (to stderr, and to ``out/evaluation.log``); after Ctrl-C the metrics finished so far
    are written to ``out`` before the interruption propagates.
    """
    from ..registry import get_registry
    from ..sampling import Samples

    if scale not in ("quick", "paper"):
        raise ConfigError(f"scale must be 'quick' or 'paper', got {scale!r}")
    registry = get_registry()
    specs = {name: registry.metrics[name] for name in metrics}
    data_spec = registry.datasets[dataset]
    configs = {}
    for name, spec in specs.items():
        preset = QUICK.get(name, {}) if scale == "quick" else {}
        configs[name] = spec.make_config({**preset, **(metric_config or {}).get(name, {})})
    unknown = set(metric_config or {}) - set(specs) - {"unet-fd"}
    if unknown:
        raise ConfigError(f"metric_config names metrics that are not evaluated: {sorted(unknown)}")
    given = metric_config or {}
    if "unet-fd" in given and "unet-fd" not in configs:  # the shared U-Net feature space
        configs["unet-fd"] = registry.metrics["unet-fd"].make_config(
            {**(QUICK["unet-fd"] if scale == "quick" else {}), **given["unet-fd"]})
    elif "unet-fd" not in configs and scale == "quick":
        configs["unet-fd"] = registry.metrics["unet-fd"].make_config(QUICK["unet-fd"])

    n = n or (QUICK_SAMPLES if scale == "quick" else PAPER_SAMPLES)
    if isinstance(source, (str, Path)):
        from ..model import load

        source = load(source)
    run_on = torch.device(device) if device else default_device()
    out_path = Path(out) if out is not None else None
    log = None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        log = out_path / "evaluation.log"
    model_info = None if isinstance(source, Samples) else source.info
    if model_info is not None and model_info.label_map != data_spec.label_map:
        raise EvaluationError(f"the model's label map {model_info.label_map} differs from {dataset}'s "
                              f"{data_spec.label_map}")
    instances = {name: spec.resolve_factory()(configs[name]) for name, spec in specs.items()}
    if scale == "paper" and run_on.type == "cpu" and progress:
        say(paper_scale_warning(source, instances, n, data_spec, run_on), log=log)
    samples = source if isinstance(source, Samples) else source.sample(n, seed=seed, device=device)
    _check_samples(samples, data_spec)
    ctx = EvalContext(samples, dataset, Path(data_root) if data_root else None, samples.images.shape[-1],
                      dict(dataset_config or {}), run_on, out_path, configs)
    results: dict[str, Any] = {}
    with Progress(len(specs), "evaluating", enabled=progress, log=log) as bar:
        for name in specs:
            bar.note(f"{name}: started ({len(samples)} samples against {dataset}, {scale} scale)")
            began = time.monotonic()
            try:
                results[name] = instances[name](ctx)
            except KeyboardInterrupt:
                if out_path is not None and results:
                    write_report(out_path, {**results, "meta": _meta(dataset, scale, samples, ctx, model_info,
                                                                    configs, interrupted=name)})
                raise
            bar.note(f"{name}: {headline(name, results[name])} ({time.monotonic() - began:.0f} s)")
            bar.update(len(results))
    results["meta"] = _meta(dataset, scale, samples, ctx, model_info, configs)
    if out_path is not None:
        write_report(out_path, results)
    return results


def paper_scale_warning(source: Any, metrics: dict[str, Any], n: int, data_spec, device: torch.device) -> str:
    """How long a paper-scale evaluation will take here, from a probe of sampling and of each metric."""
    from .estimate import Probe, describe, estimate_metrics, seconds_per_call

    resolution = source.info.resolution if hasattr(source, "info") else source.images.shape[-1]
    probe = Probe(n, resolution, data_spec.channels, len(data_spec.label_map), device)
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
        "resolution": ctx.resolution, "dataset_config": ctx.dataset_config,
        "model": model_info.gan if model_info else None,
        "metric_config": {k: json.loads(v.model_dump_json()) for k, v in configs.items()},
    }
    if interrupted:
        meta["interrupted_during"] = interrupted
    return meta


def headline(name: str, result: dict[str, Any]) -> str:
    keys = {"fid": ["fid"], "kid": ["kid", "kid_std"], "dice": ["dice", "dice_std"], "unet-fd": ["unet_fd"],
            "prdc": ["precision", "recall", "density", "coverage"],
            "memorisation": ["near_copy_fraction", "ratio"]}.get(name)
    if keys is None:
        keys = [k for k, v in result.items() if isinstance(v, (int, float))][:4]
    return ", ".join(f"{k} {_fmt(result[k])}" for k in keys if result.get(k) is not None)


def reference_text(result: dict[str, Any]) -> str:
    """A metric's reference values (what real data gets), from its result's ``reference`` entry."""
    return ", ".join(f"{k} {_fmt(v)}" for k, v in (result.get("reference") or {}).items()) or "-"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _metric_specs() -> dict[str, Any]:
    from ..registry import get_registry

    return dict(get_registry().metrics)


def write_report(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(results, indent=2, default=str))
    meta = results["meta"]
    lines = [f"# Evaluation against {meta['dataset']}", "",
             f"{meta['samples']} generated samples (seed {meta['seed']}), {meta['resolution']}x{meta['resolution']}, "
             f"{meta['scale']} scale.", "", "| metric | result | reference | what it measures |",
             "| --- | --- | --- | --- |"]
    specs = _metric_specs()
    lines += [f"| {name} | {headline(name, result)} | {reference_text(result)} | "
              f"{specs[name].summary if name in specs else ''} |"
              for name, result in results.items() if name != "meta"]
    lines += ["", "The reference is the value real data would get: 0 for a distance between feature "
              "distributions, the real training data's Dice, the near-copy rate of real test images."]
    dice = results.get("dice")
    if dice:
        one_seed = dice.get("seeds") == 1
        lines += ["", "## U-Net Dice on the real test split, by training source", "",
                  f"| source | Dice ({'one seed' if one_seed else 'mean ± std over seeds'}) | pooled | "
                  "training pairs |",
                  "| --- | --- | --- | --- |"]
        for source, r in dice["sources"].items():
            spread = "" if r["dice_std"] is None else f" ± {r['dice_std']:.3f}"
            lines.append(f"| {source} | {r['dice']:.3f}{spread} | {r['pooled']:.3f} | {r['training_pairs']} |")
        if "original" in dice["sources"]:
            lines += ["", "The `original` row is the reference: a U-Net trained on the real training pairs. "
                      "Generated pairs that train it as well score as high."]
    lines += ["", "Full results: `evaluation.json`.", ""]
    (out / "evaluation.md").write_text("\n".join(lines))
