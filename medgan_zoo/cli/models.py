"""``medgan-zoo models``, ``export`` and ``push``: the catalogue and the Hugging Face Hub."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import click

from . import options as opt


@click.command("models")
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True, help="Print the full cards as JSON.")
def models_command(pattern: str, as_json: bool) -> None:
    """List the catalogue (GAN/data-set pairs) matching PATTERN (fnmatch, e.g. '*-acdc')."""
    from ..catalogue import broken_cards, catalogue, list_models

    cards = catalogue()
    names = list_models(pattern)
    broken = {n: why for n, why in broken_cards().items() if fnmatch.fnmatchcase(n, pattern)}
    if as_json:
        opt.print_json([json.loads(cards[n].model_dump_json()) for n in names])
        return
    if not names and not broken:
        raise click.ClickException(f"no catalogue entry matches {pattern!r}; `medgan-zoo models` lists all "
                                   f"{len(cards)} (patterns are fnmatch-style, e.g. 'spade-*' or '*-acdc')")
    from rich.console import Console
    from rich.markup import escape
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
    for name in sorted(broken):
        table.add_row(escape(name), "broken", "-", "-", "-", style="red")
    console = Console(soft_wrap=True, highlight=False)
    console.print(table)
    for _, why in sorted(broken.items()):
        console.print(f"[red]broken[/red] {escape(why)}")


@click.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
def export_command(run_dir: Path, out: Path) -> None:
    """Write a Hub-ready folder (config.json, model.safetensors, README.md card, samples.png)."""
    from ..model import load

    load(f"local-dir:{run_dir}").save_pretrained(out)
    click.echo(f"exported {run_dir} to {out}")


@click.command("push")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="Create the repository as private.")
def push_command(run_dir: Path, repo_id: str, private: bool) -> None:
    """Export RUN_DIR and upload it to the Hugging Face Hub as REPO_ID (needs `hf auth login`)."""
    from ..model import load

    commit = load(f"local-dir:{run_dir}").push_to_hub(repo_id, private=private)
    click.echo(f"pushed to {repo_id} at commit {commit}; pin it in a catalogue card as hub.revision")
