"""The Table 2 study: train (or load) every GAN on every data set, sample, evaluate, tabulate, with
the real-data baselines and, for the paper's data sets, the paper's own numbers alongside."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..device import default_device
from ..progress import Progress, say
from .harness import PAPER_SAMPLES, QUICK_SAMPLES, evaluate

QUICK_TRAINING = {"steps": 300, "resolution": 32}
PAPER_TRAINING = {"steps": 20000, "resolution": 128}


def paper_table() -> dict[str, Any]:
    """The paper's Table 2 as data (``paper_table2.json``, with its source)."""
    return json.loads(resources.files("medgan_zoo.evaluation").joinpath("paper_table2.json").read_text())


def _paper_lookup() -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dataset"], r["source"]): r for r in paper_table()["rows"]}


def _fid_available() -> bool:
    from .inception import WeightsNotFound, find_inception_weights

    try:
        find_inception_weights(download=False)
        return True
    except WeightsNotFound:
        return False


def study(gans: list[str], datasets: list[str], out: str | Path, *, scale: str = "quick",
          steps: int | None = None, resolution: int | None = None, n: int | None = None,
          metrics: list[str] | None = None, data_roots: dict[str, Path] | None = None,
          dataset_config: dict[str, Any] | None = None, metric_config: dict[str, dict[str, Any]] | None = None,
          seed: int = 0, progress: bool = True) -> Path:
    """Run the study into ``out``; writes ``table2.md``, ``table2.csv`` and ``table2.json``.

    A run folder ``out/GAN-DATASET`` that already holds a model is loaded, not retrained, and one
    whose evaluation of the same metrics, scale, seed and sample count finished is read back, not
    re-run. Each cell's stages are reported (stderr and ``out/study.log``).
    ``metrics`` defaults to dice, unet-fd and memorisation, plus fid when Inception weights are
    on this machine.
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
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    preset = QUICK_TRAINING if scale == "quick" else PAPER_TRAINING
    steps = steps or preset["steps"]
    resolution = resolution or preset["resolution"]
    metrics = list(metrics or (["fid"] if _fid_available() else []) + ["dice", "unet-fd", "memorisation"])
    n = n or (QUICK_SAMPLES if scale == "quick" else None)
    data_roots = data_roots or {}
    paper = _paper_lookup()
    rows: list[dict[str, Any]] = []
    if scale == "paper" and progress and default_device().type == "cpu":
        say(_paper_scale_warning(gans, datasets, metrics, metric_config or {}, steps, resolution),
            log=out / "study.log")
    cells = Progress(len(datasets) * len(gans), "study", log=out / "study.log")
    for dataset in datasets:
        root = data_roots.get(dataset)
        common: dict[str, Any] = dict(scale=scale, data_root=root, dataset_config=dataset_config, seed=seed)
        if "dice" in metrics:
            from ..factory import load_dataset

            real = load_dataset(dataset, root, "train", resolution, **(dataset_config or {}))
            baseline = evaluate(Samples(real.images, real.masks, seed, dict(real.label_map)), dataset, ["dice"],
                                metric_config={"dice": {**(metric_config or {}).get("dice", {}),
                                                        "sources": ["original", "augmented original"]}},
                                out=out / f"baselines-{dataset}", progress=progress, **common)
            for source, r in baseline["dice"]["sources"].items():
                rows.append(_row(dataset, source, {"dice": r["dice"], "dice_std": r["dice_std"]}, paper, "real"))
        for gan in gans:
            run = out / f"{gan}-{dataset}"
            if not (run / "config.json").exists():
                cells.note(f"{gan} on {dataset}: training {steps} steps at {resolution} px")
                train(gan, dataset, out=run, data_root=root, resolution=resolution, steps=steps,
                      dataset_config=dataset_config, seed=seed, progress=progress, resume=(run / "train.json").exists())
            config = {k: dict(v) for k, v in (metric_config or {}).items()}
            if "dice" in metrics:
                config.setdefault("dice", {})["sources"] = ["synthetic", "original + synthetic"]
            model = load(run)
            masks = model.gan.mask_origin
            result = _finished(run / "evaluation" / "evaluation.json", metrics, scale, seed, n)
            if result is None:
                cells.note(f"{gan} on {dataset}: evaluating {', '.join(metrics)}")
                result = evaluate(model, dataset, metrics, n=n, metric_config=config, out=run / "evaluation",
                                  progress=progress, **common)
            else:
                cells.note(f"{gan} on {dataset}: evaluated before, read from {run / 'evaluation'}")
            cells.update(cells.done + 1)
            values = {k: result[m][k] for m, k in (("fid", "fid"), ("unet-fd", "unet_fd")) if m in result}
            if "memorisation" in result:
                values["near_copies"] = result["memorisation"]["near_copy_fraction"]
            if "dice" in result:
                synthetic = result["dice"]["sources"]["synthetic"]
                both = result["dice"]["sources"]["original + synthetic"]
                rows.append(_row(dataset, gan, {**values, "dice": synthetic["dice"], "dice_std": synthetic["dice_std"]},
                                 paper, masks))
                rows.append(_row(dataset, f"original + {gan}", {"dice": both["dice"], "dice_std": both["dice_std"]},
                                 paper, f"real + {masks}"))
            else:
                rows.append(_row(dataset, gan, values, paper, masks))
    cells.close()
    _write_tables(out, rows, {"scale": scale, "steps": steps, "resolution": resolution, "samples": n,
                              "metrics": metrics, "paper_source": paper_table()["source"]})
    return out


def _paper_scale_warning(gans: list[str], datasets: list[str], metrics: list[str],
                         metric_config: dict[str, dict[str, Any]], steps: int, resolution: int) -> str:
    """The evaluation part of one cell, from a timed probe; training warns at its first step."""
    from ..registry import get_registry
    from .estimate import Probe, describe, estimate_metrics

    registry = get_registry()
    spec = registry.datasets[datasets[0]]
    instances = {m: registry.metrics[m].resolve_factory()(registry.metrics[m].make_config(metric_config.get(m, {})))
                 for m in metrics}
    seconds, parts = estimate_metrics(instances, Probe(PAPER_SAMPLES, resolution, spec.channels,
                                                       len(spec.label_map), default_device()))
    cells = len(gans) * len(datasets)
    return (f"paper scale on the CPU: {cells} cell(s), each training {steps} steps at {resolution} px (the first "
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
    same = (meta.get("scale") == scale and meta.get("seed") == seed and (n is None or meta.get("samples") == n)
            and not meta.get("interrupted_during") and set(metrics) <= set(result))
    return result if same else None


def _row(dataset: str, source: str, values: dict[str, Any], paper: dict, masks: str) -> dict[str, Any]:
    reference = paper.get((dataset, source), {})
    return {"dataset": dataset, "source": source, "masks": masks, "fid": values.get("fid"), "dice": values.get("dice"),
            "dice_std": values.get("dice_std"), "unet_fd": values.get("unet_fd"),
            "near_copies": values.get("near_copies"), "paper_fid": reference.get("fid"),
            "paper_dice": reference.get("dice")}


def _cell(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _write_tables(out: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    (out / "table2.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    with (out / "table2.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["dataset"])
        writer.writeheader()
        writer.writerows(rows)
    lines = ["# Table 2, reproduced", "",
             f"Scale: {meta['scale']} ({meta['steps']} training steps at {meta['resolution']} px, "
             f"{meta['samples'] or 'default'} samples per GAN); metrics: {', '.join(meta['metrics'])}.", "",
             "| dataset | source | masks | FID | U-Net Dice | U-Net FD | near-copies | paper FID | paper Dice |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        spread = "" if r.get("dice_std") is None else f" ± {r['dice_std']:.3f}"  # none over a single seed
        dice = "–" if r["dice"] is None else f"{r['dice']:.3f}{spread}"
        lines.append(f"| {r['dataset']} | {r['source']} | {r['masks']} | {_cell(r['fid'], 2)} | {dice} | "
                     f"{_cell(r['unet_fd'])} | {_cell(r['near_copies'])} | {_cell(r['paper_fid'], 2)} | "
                     f"{_cell(r['paper_dice'], 2)} |")
    lines += ["", "Masks: where each row's training masks come from. Unconditional GANs generate each mask with its "
              "image; a mask-conditioned GAN (SPADE) draws its image from a mask that is generated by a mask model, "
              "or taken from the real training masks (a bank), which gives it real anatomy the others must "
              "generate: compare such a row with that in mind.", "",
              f"Paper numbers: {meta['paper_source']}", ""]
    (out / "table2.md").write_text("\n".join(lines))
