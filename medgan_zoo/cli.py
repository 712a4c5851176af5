"""The ``medgan-zoo`` command line. Expected faults print one line and exit 1, not a traceback."""

from __future__ import annotations

import json
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medgan-zoo")
