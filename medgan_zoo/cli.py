"""The ``medgan-zoo`` command line. Expected faults print one line and exit 1, not a traceback."""

from __future__ import annotations

import json
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


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="medgan-zoo")
def cli() -> None:
    """Train, compare, share and evaluate GANs for medical images and their masks."""


@cli.group("plugins", cls=_Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for machines.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed GAN, loss, dataset and metric plugins and any that failed to load."""
    if ctx.invoked_subcommand is not None:
        return
    entries = get_registry().entries()
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

    return load_dataset(name, data_root, split, resolution, **_parse_settings(settings))


@cli.group("datasets", cls=_Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List the registered datasets with modality, organ and label map."""
    if ctx.invoked_subcommand is not None:
        return
    specs = list(get_registry().datasets.values())
    rows = [{"name": s.name, "modality": s.modality, "organ": s.organ, "channels": s.channels,
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
@_split
@_resolution
@_settings
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def datasets_show(name: str, data_root: Path | None, split: str, resolution: int,
                  settings: tuple[str, ...], as_json: bool) -> None:
    """Subjects, slices and class pixel frequencies of one split of NAME."""
    dataset = _load(name, data_root, split, resolution, settings)
    summary = dataset.summary()
    summary["slices_per_subject"] = dataset.slices_per_subject()
    if as_json:
        _print_json(summary)
        return
    per_subject = list(summary["slices_per_subject"].values())
    click.echo(f"{name} ({split}): {summary['subjects']} subjects, {summary['slices']} slices of "
               f"{resolution}x{resolution}, {summary['channels']} channel(s)")
    click.echo(f"slices per subject: min {min(per_subject)}, max {max(per_subject)}, "
               f"mean {sum(per_subject) / len(per_subject):.1f}")
    click.echo("class pixel frequencies:")
    for label, fraction in summary["class_frequencies"].items():
        click.echo(f"  {label:<20} {fraction:8.4%}")


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
    save_grid(grid, out)
    click.echo(f"wrote {out} ({len(picks)} slices of {name} {split})")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medgan-zoo")
