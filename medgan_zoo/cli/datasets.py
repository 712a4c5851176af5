"""``medgan-zoo datasets``: list, describe and preview data sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..registry import get_registry
from . import options as opt


def dataset_values(settings: tuple[str, ...]) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs of a data set; ``dataset.KEY`` (as train and evaluate spell it) too."""
    return {key.removeprefix("dataset."): value for key, value in opt.parse_settings(settings).items()}


def load(name: str, root: Path | None, split_name: str, size: int, settings: tuple[str, ...]):
    """A data set split; ``--set resolution=32`` (or split, data_root) wins over the option."""
    from ..factory import load_dataset

    values = dataset_values(settings)
    size = values.pop("resolution", size)
    split_name = values.pop("split", split_name)
    root = values.pop("data_root", root)
    return load_dataset(name, root, split_name, size, **values)


@click.group("datasets", cls=opt.Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List the registered datasets with modality, organ and label map."""
    if ctx.invoked_subcommand is not None:
        return
    specs = list(get_registry().datasets.values())
    rows: list[dict[str, Any]] = [{"name": s.name, "modality": s.modality, "organ": s.organ, "channels": s.channels,
                                   "phantom": s.phantom, "label_map": s.label_map, "summary": s.summary}
                                  for s in specs]
    if as_json:
        opt.print_json(rows)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "modality", "organ", "channels", "labels"):
        table.add_column(column, overflow="fold")
    for r in rows:
        labels = ", ".join(f"{k} {v}" for k, v in r["label_map"].items()) if r["label_map"] else "from the data"
        channels = "from the data" if r["channels"] is None else str(r["channels"])
        table.add_row(*(escape(str(v)) for v in (r["name"], r["modality"], r["organ"], channels, labels)))
    Console(soft_wrap=True, highlight=False).print(table)


@datasets.command("show")
@click.argument("name")
@opt.data_root
@click.option("--split", "splits", type=click.Choice(["train", "test", "all"]), multiple=True,
              help="Split(s) to describe (repeatable; default: train and test).")
@opt.resolution
@opt.dataset_settings
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def datasets_show(name: str, data_root: Path | None, splits: tuple[str, ...], resolution: int,
                  settings: tuple[str, ...], as_json: bool) -> None:
    """Subjects, volumes, slices per split, class pixel frequencies and groups (classes) of NAME."""
    summaries = {}
    for one in splits or ("train", "test"):
        dataset = load(name, data_root, one, resolution, settings)
        summaries[one] = {**dataset.summary(), "slices_per_subject": dataset.slices_per_subject()}
    if as_json:
        first = next(iter(summaries.values()))
        opt.print_json({"name": name, "resolution": first["resolution"], "splits": summaries})
        return
    for one, summary in summaries.items():
        per_subject = list(summary["slices_per_subject"].values())
        subjects, volumes = summary["subjects"], summary["volumes"]
        click.echo(f"{name} ({one}): {subjects} subject{'s' * (subjects != 1)}, {volumes} volume"
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
@opt.data_root
@opt.split
@opt.resolution
@opt.dataset_settings
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="PNG file to write.")
@click.option("-n", "count", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Slices to show, spread evenly over the split.")
@click.option("--columns", type=click.IntRange(1, 32), default=4, show_default=True)
def datasets_preview(name: str, data_root: Path | None, split: str, resolution: int,
                     settings: tuple[str, ...], out: Path, count: int, columns: int) -> None:
    """Write a grid of slices of NAME, each beside itself with its mask overlaid."""
    import torch

    from ..data.preview import overlay_grid, save_grid

    dataset = load(name, data_root, split, resolution, settings)
    picks = torch.linspace(0, len(dataset) - 1, min(count, len(dataset))).round().long().unique()
    grid = overlay_grid(dataset.images[picks], dataset.masks[picks], columns=columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_grid(grid, out, f"{name} ({split}): each slice beside itself with its mask", dataset.label_map)
    click.echo(f"wrote {out} ({len(picks)} slices of {name} {split})")


def check_data(name: str, root: Path | None, size: int, settings: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """(facts, problems) of a data set: its spec's own ``check`` when it has one (every problem of
    every file), else each split loaded and summarised (the first problem of each)."""
    from ..errors import MedganZooError

    spec = get_registry().datasets[name]
    values = dataset_values(settings)
    size = values.pop("resolution", size)
    root = values.pop("data_root", root)
    checker = spec.checker()
    if checker is not None:
        config_values: dict[str, Any] = {"resolution": size, **values}
        if root is not None:
            config_values["data_root"] = root
        return checker(spec.make_config(config_values))
    facts: dict[str, Any] = {"summary": []}
    problems: list[str] = []
    for split in ("train", "test"):
        try:
            data = load(name, root, split, size, settings)
        except MedganZooError as exc:
            problems.append(f"{split}: {exc}")
            continue
        summary = data.summary()
        facts[split] = summary
        facts["summary"].append(f"{split}: {summary['subjects']} subjects, {summary['slices']} slices, labels "
                                + ", ".join(f"{k} {v:.2%}" for k, v in summary["class_frequencies"].items()))
    return facts, problems


@datasets.command("check")
@click.argument("name")
@opt.data_root
@opt.resolution
@opt.dataset_settings
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a preview grid (PNG) of the training split with the masks overlaid.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def datasets_check(ctx: click.Context, name: str, data_root: Path | None, resolution: int, settings: tuple[str, ...],
                   out: Path | None, as_json: bool) -> None:
    """Read every file of NAME (e.g. your own folder) and list what was found and every problem, one
    line each naming the file; exit status 1 when there are problems."""
    facts, problems = check_data(name, data_root, resolution, settings)
    preview = None
    if out is not None and not problems:
        import torch

        from ..data.preview import overlay_grid, save_grid

        dataset = load(name, data_root, "train", resolution, settings)
        picks = torch.linspace(0, len(dataset) - 1, min(16, len(dataset))).round().long().unique()
        out.parent.mkdir(parents=True, exist_ok=True)
        save_grid(overlay_grid(dataset.images[picks], dataset.masks[picks], columns=4), out,
                  f"{name} (train): each slice beside itself with its mask", dataset.label_map)
        preview = str(out)
    if as_json:
        opt.print_json({"name": name, "facts": {k: v for k, v in facts.items() if k != "summary"},
                        "problems": problems, "preview": preview})
    else:
        for line in facts.get("summary", []):
            click.echo(line)
        for problem in problems:
            click.echo(f"problem: {problem}")
        if preview:
            click.echo(f"wrote {preview}")
        click.echo(f"{len(problems)} problem(s)" if problems else "no problems found")
    if problems:
        ctx.exit(1)
