"""The ``medgan-zoo`` command line. Expected faults print one line and exit 1, not a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ._version import __version__
from .errors import MedganZooError
from .registry import get_registry, normalize_kind


class _Group(click.Group):
    """A click group that turns medgan-zoo's own errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MedganZooError as exc:
            raise click.ClickException(str(exc)) from None


class _TrainCommand(click.Command):
    """`train --help` ends with the GANs and data sets installed here (discovery is light)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from .registry import get_registry

        registry = get_registry()
        with formatter.section("Installed"):
            formatter.write_dl([("GANs", ", ".join(sorted(registry.gans))),
                                ("data sets", ", ".join(sorted(registry.datasets)))])
        super().format_epilog(ctx, formatter)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="medgan-zoo")
def cli() -> None:
    """Train, compare, share and evaluate GANs for medical images and their masks."""


@cli.group("plugins", cls=_Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for machines.")
@click.option("--check", is_flag=True, help="Also import every factory (slower) and report those that fail.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool, check: bool) -> None:
    """List installed GAN, loss, dataset and metric plugins and any that failed to load."""
    if ctx.invoked_subcommand is not None:
        return
    entries = get_registry().entries(check=check)
    if as_json:
        _print_json([vars(e) for e in entries])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "kind", "distribution", "version", "status"):
        table.add_column(column)
    for e in entries:
        style = "" if e.status == "ok" else "red"
        table.add_row(e.name, e.kind, e.distribution, e.version, e.status, style=style)
    console = Console(soft_wrap=True)
    console.print(table)
    failed = [e for e in entries if e.status not in ("ok", "disabled")]
    for e in failed:
        console.print(f"[red]{e.status}[/red] {e.distribution} {e.version} "
                      f"(plugin {e.plugin!r}): {e.reason}", markup=True, highlight=False)
    if check and failed:
        ctx.exit(1)


@plugins.command("show")
@click.argument("kind")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plugins_show(kind: str, name: str, as_json: bool) -> None:
    """Describe one plugin: KIND is gan, loss, dataset or metric."""
    spec = get_registry().get(kind, name)
    origin = spec.origin
    info = {
        "name": spec.name,
        "kind": normalize_kind(kind),
        "summary": spec.summary,
        "distribution": origin.distribution if origin else None,
        "version": origin.version if origin else None,
        "factory": spec.factory if isinstance(spec.factory, str) else repr(spec.factory),
        **spec.requirements(),
        "config": spec.config_fields(),
    }
    if as_json:
        _print_json(info)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True, highlight=False)
    console.print(f"[bold]{spec.name}[/bold] ({info['kind']}): {spec.summary}")
    console.print(f"from {info['distribution']} {info['version']}; factory {info['factory']}")
    for key, value in spec.requirements().items():
        console.print(f"{key}: {value}")
    if not info["config"]:
        console.print("config: no fields")
        return
    table = Table(title=f"config ({spec.config.__name__})", box=None, header_style="bold")
    for column in ("field", "type", "default", "description"):
        table.add_column(column, overflow="fold")
    for row in info["config"]:
        table.add_row(row["name"], row["type"], repr(row["default"]), row["description"])
    console.print(table)


def _parse_settings(settings: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as JSON when they parse (numbers, lists, true/null)."""
    values: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--set")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


_data_root = click.option("--data-root", type=click.Path(path_type=Path),
                          help="Folder of a real data set as released (phantoms need none).")
_split = click.option("--split", type=click.Choice(["train", "test", "all"]), default="train",
                      show_default=True)
_resolution = click.option("--resolution", type=int, default=128, show_default=True)
_settings = click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                         help="A config field of the dataset (repeatable), e.g. --set seed=3.")


def _load(name: str, data_root: Path | None, split: str, resolution: int,
          settings: tuple[str, ...]):
    from .factory import load_dataset

    values = _parse_settings(settings)  # --set resolution=32 (or split, data_root) wins over the option
    resolution = values.pop("resolution", resolution)
    split = values.pop("split", split)
    data_root = values.pop("data_root", data_root)
    return load_dataset(name, data_root, split, resolution, **values)


@cli.group("datasets", cls=_Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List the registered datasets with modality, organ and label map."""
    if ctx.invoked_subcommand is not None:
        return
    specs = list(get_registry().datasets.values())
    rows: list[dict[str, Any]] = [{"name": s.name, "modality": s.modality, "organ": s.organ, "channels": s.channels,
             "phantom": s.phantom, "label_map": s.label_map, "summary": s.summary} for s in specs]
    if as_json:
        _print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "modality", "organ", "channels", "labels"):
        table.add_column(column, overflow="fold")
    for r in rows:
        labels = ", ".join(f"{k} {v}" for k, v in r["label_map"].items())
        table.add_row(r["name"], r["modality"], r["organ"], str(r["channels"]), labels)
    Console(soft_wrap=True, highlight=False).print(table)


@datasets.command("show")
@click.argument("name")
@_data_root
@click.option("--split", "splits", type=click.Choice(["train", "test", "all"]), multiple=True,
              help="Split(s) to describe (repeatable; default: train and test).")
@_resolution
@_settings
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def datasets_show(name: str, data_root: Path | None, splits: tuple[str, ...], resolution: int,
                  settings: tuple[str, ...], as_json: bool) -> None:
    """Subjects, volumes, slices per split, class pixel frequencies and groups (classes) of NAME."""
    summaries = {}
    for split in splits or ("train", "test"):
        dataset = _load(name, data_root, split, resolution, settings)
        summaries[split] = {**dataset.summary(), "slices_per_subject": dataset.slices_per_subject()}
    if as_json:
        first = next(iter(summaries.values()))
        _print_json({"name": name, "resolution": first["resolution"], "splits": summaries})
        return
    for split, summary in summaries.items():
        per_subject = list(summary["slices_per_subject"].values())
        subjects, volumes = summary["subjects"], summary["volumes"]
        click.echo(f"{name} ({split}): {subjects} subject{'s' * (subjects != 1)}, {volumes} volume"
                   f"{'s' * (volumes != 1)} (Dice's unit), {summary['slices']} slices of "
                   f"{summary['resolution']}x{summary['resolution']}, {summary['channels']} channel(s); "
                   "slices per subject "
                   f"{min(per_subject)}-{max(per_subject)} (mean {sum(per_subject) / len(per_subject):.1f})")
        click.echo("  class pixel frequencies: " + ", ".join(
            f"{label} {fraction:.4%}" for label, fraction in summary["class_frequencies"].items()))
        if summary.get("groups"):
            click.echo("  groups (slices): " + ", ".join(f"{g} {n}" for g, n in summary["groups"].items()))


@datasets.command("preview")
@click.argument("name")
@_data_root
@_split
@_resolution
@_settings
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="PNG file to write.")
@click.option("-n", "count", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Slices to show, spread evenly over the split.")
@click.option("--columns", type=click.IntRange(1, 32), default=4, show_default=True)
def datasets_preview(name: str, data_root: Path | None, split: str, resolution: int,
                     settings: tuple[str, ...], out: Path, count: int, columns: int) -> None:
    """Write a grid of slices of NAME, each beside itself with its mask overlaid."""
    import torch

    from .data.preview import overlay_grid, save_grid

    dataset = _load(name, data_root, split, resolution, settings)
    picks = torch.linspace(0, len(dataset) - 1, min(count, len(dataset))).round().long().unique()
    grid = overlay_grid(dataset.images[picks], dataset.masks[picks], columns=columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_grid(grid, out, f"{name} ({split}): each slice beside itself with its mask", dataset.label_map)
    click.echo(f"wrote {out} ({len(picks)} slices of {name} {split})")


def _train_config(gan: str, dataset: str, config_file: Path | None, flags: dict[str, Any],
                  settings: tuple[str, ...]) -> dict[str, Any]:
    """Merge a YAML file, command-line flags and --set pairs (later wins) into TrainConfig fields.

    ``--set key=v`` sets a GAN config field; ``dataset.key=v`` a dataset field; ``train.key=v`` a
    training setting (seed, log_every, ...)."""
    values: dict[str, Any] = {}
    if config_file is not None:
        import yaml

        try:
            loaded = yaml.safe_load(config_file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise MedganZooError(f"{config_file} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise MedganZooError(f"{config_file} must hold a mapping of training settings")
        values.update(loaded)
    values["gan"], values["dataset"] = gan, dataset
    gan_config = dict(values.pop("gan_config", None) or {})
    dataset_config = dict(values.pop("dataset_config", None) or {})
    for key, value in flags.items():
        if value is None:
            continue
        if key == "batch_size":
            gan_config["batch_size"] = value
        else:
            values[key] = value
    for key, value in _parse_settings(settings).items():
        if key.startswith("dataset."):
            dataset_config[key.removeprefix("dataset.")] = value
        elif key.startswith("train."):
            values[key.removeprefix("train.")] = value
        else:
            gan_config[key] = value
    values["gan_config"], values["dataset_config"] = gan_config, dataset_config
    return values


@cli.command("train", cls=_TrainCommand)
@click.argument("gan")
@click.option("--dataset", required=True, help="Dataset name, e.g. acdc or acdc-phantom.")
@_data_root
@click.option("--resolution", type=int, help="Training resolution (default 64).")
@click.option("--steps", type=int, help="Generator updates (default 2000).")
@click.option("--batch-size", type=int, help="Real images per step.")
@click.option("--seed", type=int, help="Seed of the whole run (default 0).")
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of training settings (TrainConfig fields, gan_config, dataset_config).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="GAN config field; dataset.KEY or train.KEY for the others (repeatable).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Run folder.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
def train_command(gan: str, dataset: str, data_root: Path | None, resolution: int | None, steps: int | None,
                  batch_size: int | None, seed: int | None, device: str | None, config_file: Path | None,
                  settings: tuple[str, ...], out: Path, resume: bool) -> None:
    """Train GAN on a dataset; the run folder ends up loadable by `medgan-zoo sample`.

    \b
    CPU-sized configurations (minutes on 2 cores, phantom data):
      medgan-zoo train dcgan --dataset acdc-phantom --resolution 32 --steps 2000 --out runs/dcgan
      medgan-zoo train spade --dataset acdc-phantom --resolution 32 --steps 3200 --set preset=fast --out runs/spade
      medgan-zoo train stylegan2 --dataset acdc-phantom --resolution 32 --steps 200 --batch-size 16
        --set channel_base=2048 --set channel_max=128 --set mapping_layers=4 --out runs/sg2
    The published configurations (SPADE's `paper`, StyleGAN2's config F at 128 px) need a GPU.
    """
    from .training.config import make_train_config
    from .training.engine import Trainer

    flags = {"data_root": data_root, "resolution": resolution, "steps": steps, "batch_size": batch_size,
             "seed": seed, "device": device}
    config = make_train_config(_train_config(gan, dataset, config_file, flags, settings))
    trainer = Trainer(config, out, resume)
    result = trainer.run()
    if trainer.main:  # under torchrun, rank 0 speaks for the run
        ranks = f" on {trainer.config.world_size} ranks" if trainer.config.world_size > 1 else ""
        click.echo(f"trained {gan} on {dataset} for {result.steps} steps{ranks} in {result.seconds:.0f} s "
                   f"({result.images_per_second:.0f} images/s); model in {out}")


@cli.command("sample")
@click.argument("model")
@click.option("-n", "count", type=int, required=True, help="Number of image + mask pairs.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--format", "fmt", type=click.Choice(["png", "npz", "nifti"]), default="png", show_default=True)
@click.option("--seed", type=int, help="Seed (default: random, recorded in samples.json).")
@click.option("--batch-size", type=int, help="Samples per forward pass (results do not depend on it).")
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A sampling option of the GAN, e.g. --set truncation=0.7 (StyleGAN2); repeatable.")
@click.option("--class", "class_name", metavar="NAME",
              help="A class-conditional model: generate this class only, e.g. dcm (default: each sample's class "
              "drawn in the training proportions; the classes go to classes_*.csv or the npz).")
def sample_command(model: str, count: int, out: Path, fmt: str, seed: int | None, batch_size: int | None,
                   device: str | None, settings: tuple[str, ...], class_name: str | None) -> None:
    """Generate N pairs from MODEL (a folder, hf://org/repo[@rev], or a catalogue name) to --out."""
    from .model import load

    if count <= 0:
        raise click.BadParameter(f"must be positive, got {count}", param_hint="-n")
    options = _parse_settings(settings)
    if class_name is not None:
        options["classes"] = class_name
    from . import distributed

    ranks = None
    if distributed.launched():  # torchrun: every rank writes its share of the batches
        if seed is None:
            raise click.BadParameter("sampling under torchrun needs --seed (every rank must draw the same "
                                     "samples)", param_hint="--seed")
        ranks = distributed.start(device)
        device = str(ranks.device)
    loaded = load(model, device=device)
    try:
        loaded.sample_to(out, count, format=fmt, seed=seed, batch_size=batch_size,
                         shard=(ranks.rank, ranks.world) if ranks else None, **options)
    except (TypeError, ValueError) as exc:
        if not options:
            raise
        hint = "--class" if class_name is not None and "class" in str(exc) else "--set"
        raise click.BadParameter(f"{loaded.info.gan}: {exc}", param_hint=hint) from None
    finally:
        if ranks is not None:
            distributed.finish()
    if ranks is None or ranks.main:
        where = f" with {ranks.world} processes" if ranks else ""
        click.echo(f"wrote {count} samples of {loaded.info.gan} ({loaded.info.dataset}) to {out} as {fmt}{where}")


_SET_METRIC_HELP = ("A metric's config field as METRIC.KEY=VALUE (`medgan-zoo plugins show metric NAME` lists them), "
                    "or dataset.KEY=VALUE for the data set.")


def _metric_names(text: str | None) -> list[str]:
    return [m.strip() for m in (text or "").split(",") if m.strip()]


def _metric_settings(settings: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``--set METRIC.KEY=VALUE`` and ``--set dataset.KEY=VALUE`` pairs."""
    metrics: dict[str, dict[str, Any]] = {}
    dataset: dict[str, Any] = {}
    for key, value in _parse_settings(settings).items():
        owner, dot, field = key.partition(".")
        if not dot:
            raise click.BadParameter(f"expected METRIC.KEY=VALUE or dataset.KEY=VALUE, got {key!r}", param_hint="--set")
        if owner == "dataset":
            dataset[field] = value
        else:
            metrics.setdefault(owner, {})[field] = value
    return metrics, dataset


def _one_process_only(command: str) -> None:
    from . import distributed

    if distributed.launched() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise click.ClickException(f"{command} does not split its work across torchrun's processes yet; run it as "
                                   "one process (docs/distributed.md)")


@cli.command("evaluate")
@click.argument("model")
@click.option("--dataset", required=True, help="Data set to compare against (its train and test splits).")
@_data_root
@click.option("--metrics", help="Comma-separated metric plugins (default: those marked default that can run here; "
              "`medgan-zoo plugins` lists them).")
@click.option("-n", "count", type=int, help="Generated samples (default 10,000; quick scale 256).")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="paper", show_default=True,
              help="quick: small U-Net budgets for CI and demos; paper: the protocol's full budgets.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
@click.option("--set", "settings", multiple=True, metavar="METRIC.KEY=VALUE",
              help=_SET_METRIC_HELP)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Write evaluation.json and .md here.")
def evaluate_command(model: str, dataset: str, data_root: Path | None, metrics: str | None, count: int | None,
                     scale: str,
                     seed: int, device: str | None, settings: tuple[str, ...], out: Path | None) -> None:
    """Sample from MODEL and score it against a data set; prints the headline of each metric.
    Under torchrun the ranks share the sampling, the feature extraction and the U-Nets."""
    from . import distributed
    from .evaluation.harness import default_metrics, evaluate, headline_text

    if count is not None and count <= 0:
        raise click.BadParameter(f"must be positive, got {count}", param_hint="-n")
    metric_config, dataset_config = _metric_settings(settings)
    ranks = distributed.start(device, timeout=distributed.SHARED_WORK_TIMEOUT) if distributed.launched() else None
    main = ranks is None or ranks.main
    names = _metric_names(metrics) or default_metrics(note=lambda text: click.echo(text, err=True) if main else None)
    try:
        with distributed.sharing():
            results = evaluate(model, dataset, names, n=count, scale=scale, data_root=data_root,
                               dataset_config=dataset_config, metric_config=metric_config, seed=seed,
                               device=str(ranks.device) if ranks else device, out=out if main else None,
                               progress=main)
    except KeyboardInterrupt:
        kept = f"the metrics finished before it are in {out / 'evaluation.json'}; " if out is not None else ""
        raise click.ClickException(f"interrupted: {kept}run the command again with --metrics for the rest") from None
    finally:
        if ranks is not None:
            distributed.finish()
    if not main:
        return
    if ranks is not None:
        click.echo(f"evaluated with {ranks.world} processes")
    for name in names:
        click.echo(f"{name}: {headline_text(results[name])}")
    if out is not None:
        click.echo(f"wrote {out / 'evaluation.json'} and {out / 'evaluation.md'}")


@cli.command("study")
@click.option("--gans", required=True, help="Comma-separated GANs, e.g. dcgan,lsgan,wgan,wgan-gp,hingegan.")
@click.option("--datasets", required=True, help="Comma-separated data sets, e.g. acdc-phantom or acdc.")
@click.option("--data-root", "data_roots", multiple=True, metavar="DATASET=DIR",
              help="Folder of a real data set (repeatable), e.g. acdc=~/data/ACDC.")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="quick", show_default=True)
@click.option("--steps", type=int, help="Training steps per GAN (quick: 300, paper: 20,000).")
@click.option("--resolution", type=int, help="Training resolution (quick: 32, paper: 128).")
@click.option("--metrics", help="Comma-separated metrics (default: those marked default that can run here).")
@click.option("-n", "count", type=int, help="Samples per GAN (quick: 256, paper: 10,000).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "settings", multiple=True, metavar="METRIC.KEY=VALUE",
              help=_SET_METRIC_HELP)
@click.option("--report/--no-report", "with_report", default=None,
              help="Write each data set's HTML report (Figs. 5-6) next to Table 2 (default: when the report "
              "extra is installed).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
def study_command(gans: str, datasets: str, data_roots: tuple[str, ...], scale: str, steps: int | None,
                  resolution: int | None, metrics: str | None, count: int | None, seed: int,
                  settings: tuple[str, ...], with_report: bool | None, out: Path) -> None:
    """Train (or load), sample and evaluate every GAN on every data set; write Table 2."""
    _one_process_only("study")
    from .evaluation.study import study

    roots: dict[str, Path] = {}
    for item in data_roots:
        name, sep, directory = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected DATASET=DIR, got {item!r}", param_hint="--data-root")
        roots[name] = Path(directory).expanduser()
    metric_config, dataset_config = _metric_settings(settings)
    try:
        folder = study([g.strip() for g in gans.split(",") if g.strip()],
                       [d.strip() for d in datasets.split(",") if d.strip()], out, scale=scale, steps=steps,
                       resolution=resolution, n=count,
                       metrics=_metric_names(metrics) or None,
                       data_roots=roots, dataset_config=dataset_config, metric_config=metric_config, seed=seed,
                       report=with_report)
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted: finished training runs and evaluations stay in {out}; the same "
                                   "command continues from them (it skips what is done)") from None
    click.echo((folder / "table2.md").read_text())


@cli.command("report")
@click.argument("models", nargs=-1, required=True)
@click.option("--dataset", required=True, help="The data set the models were trained on.")
@_data_root
@click.option("-n", "count", type=int, default=1000, show_default=True, help="Samples per model.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the samples, UMAP and the kNN test.")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="quick", show_default=True,
              help="Recipe of the reference U-Net whose features are shown (the U-Net FD metric's, same cache).")
@click.option("--inception-weights", type=click.Path(path_type=Path, dir_okay=False),
              help="Inception weights (default: $MEDGAN_ZOO_INCEPTION_WEIGHTS or the torch hub cache).")
@click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
@click.option("--set", "settings", multiple=True, metavar="METRIC.KEY=VALUE",
              help="dataset.KEY for the data set; METRIC.KEY for the metric whose network gives a feature space "
              "(the U-Net FD metric's reference U-Net: the same settings reuse its cached network).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Report folder.")
def report_command(models: tuple[str, ...], dataset: str, data_root: Path | None, count: int, seed: int,
                   scale: str, inception_weights: Path | None, device: str | None, settings: tuple[str, ...],
                   out: Path) -> None:
    """One offline HTML page for MODELS: samples beside real slices (Fig. 5), their evaluation results,
    and UMAP of U-Net and Inception features with a kNN two-sample number (Fig. 6)."""
    from .reporting.build import report

    metric_config, dataset_config = _metric_settings(settings)
    page = report(list(models), dataset, out=out, data_root=data_root, dataset_config=dataset_config, n=count,
                  seed=seed, scale=scale, device=device, inception_weights=inception_weights,
                  metric_config=metric_config)
    click.echo(f"report written: {page} (open it in a browser; it needs no network)")


@cli.command("models")
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True, help="Print the full cards as JSON.")
def models_command(pattern: str, as_json: bool) -> None:
    """List the catalogue (GAN/data-set pairs) matching PATTERN (fnmatch, e.g. '*-acdc')."""
    from .catalogue import catalogue, list_models

    cards = catalogue()
    names = list_models(pattern)
    if as_json:
        _print_json([json.loads(cards[n].model_dump_json()) for n in names])
        return
    if not names:
        raise click.ClickException(f"no catalogue entry matches {pattern!r}; `medgan-zoo models` lists all "
                                   f"{len(cards)} (patterns are fnmatch-style, e.g. 'spade-*' or '*-acdc')")
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "status", "hub", "paper FID", "paper Dice"):
        table.add_column(column, no_wrap=True)
    for name in names:
        card = cards[name]
        hub = f"{card.hub.repo_id}@{card.hub.revision[:8]}" if card.hub.revision else "-"
        paper = card.paper
        table.add_row(name, card.status, hub,
                      "-" if not paper or paper.fid is None else f"{paper.fid:.2f}",
                      "-" if not paper or paper.dice is None else f"{paper.dice:.2f}")
    Console(soft_wrap=True, highlight=False).print(table)


@cli.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
def export_command(run_dir: Path, out: Path) -> None:
    """Write a Hub-ready folder (config.json, model.safetensors, README.md card, samples.png)."""
    from .model import load

    load(f"local-dir:{run_dir}").save_pretrained(out)
    click.echo(f"exported {run_dir} to {out}")


@cli.command("push")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="Create the repository as private.")
def push_command(run_dir: Path, repo_id: str, private: bool) -> None:
    """Export RUN_DIR and upload it to the Hugging Face Hub as REPO_ID (needs `hf auth login`)."""
    from .model import load

    commit = load(f"local-dir:{run_dir}").push_to_hub(repo_id, private=private)
    click.echo(f"pushed to {repo_id} at commit {commit}; pin it in a catalogue card as hub.revision")


@cli.command("demo")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder (default: a new one under ./runs).")
@click.option("--steps", type=int,
              help="Training steps of every GAN (default: the recipe's; docs/training.md gives the time).")
@click.option("--unet-steps", type=int, help="U-Net steps of the Dice protocol (default: the recipe's 300).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the GANs' training and sampling.")
def demo_command(out: Path | None, steps: int | None, unet_steps: int | None, seed: int) -> None:
    """The paper's headline on the cardiac phantom: a baseline GAN and a stronger one side by side."""
    from .demo import run_demo

    for name, value in (("--steps", steps), ("--unet-steps", unet_steps)):
        if value is not None and value <= 0:
            raise click.BadParameter(f"must be positive, got {value}", param_hint=name)
    folder = run_demo(out=out, steps=steps, unet_steps=unet_steps, seed=seed)
    click.echo(f"demo finished: {folder / 'report.md'} (the grids, every number and the models are beside it)")


from . import cli_sweep, cli_turing  # noqa: E402,F401 - register `sweep` and `turing-test` on the group above


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medgan-zoo")
