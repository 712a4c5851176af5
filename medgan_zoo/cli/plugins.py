"""``medgan-zoo plugins``: what is installed, and one plugin's config."""

from __future__ import annotations

import click

from ..registry import get_registry, normalize_kind
from . import options as opt


@click.group("plugins", cls=opt.Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for machines.")
@click.option("--check", is_flag=True, help="Also import every factory (slower) and report those that fail.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool, check: bool) -> None:
    """List installed GAN, loss, dataset, metric and callback plugins and any that failed to load."""
    if ctx.invoked_subcommand is not None:
        return
    entries = get_registry().entries(check=check)
    if as_json:
        opt.print_json([vars(e) for e in entries])
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "kind", "distribution", "version", "status"):
        table.add_column(column)
    for e in entries:
        style = "" if e.status == "ok" else "red"
        table.add_row(*(escape(v) for v in (e.name, e.kind, e.distribution, e.version, e.status)), style=style)
    console = Console(soft_wrap=True)
    console.print(table)
    failed = [e for e in entries if e.status not in ("ok", "disabled")]
    for e in failed:
        # what a plugin wrote is text, not markup: a regex's [a-z] would vanish otherwise
        text = escape(f"{e.distribution} {e.version} (plugin {e.plugin!r}): {e.reason}")
        console.print(f"[red]{escape(e.status)}[/red] {text}", markup=True, highlight=False)
    if check and failed:
        ctx.exit(1)


@plugins.command("show")
@click.argument("kind")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plugins_show(kind: str, name: str, as_json: bool) -> None:
    """Describe one plugin: KIND is gan, loss, dataset, metric or callback."""
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
        opt.print_json(info)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=True, highlight=False)
    console.print(f"[bold]{escape(spec.name)}[/bold] ({info['kind']}): {escape(spec.summary)}")
    console.print(escape(f"from {info['distribution']} {info['version']}; factory {info['factory']}"))
    for key, value in spec.requirements().items():
        console.print(escape(f"{key}: {value}"))
    if not info["config"]:
        console.print("config: no fields")
        return
    table = Table(title=f"config ({spec.config.__name__})", box=None, header_style="bold")
    for column in ("field", "type", "default", "description"):
        table.add_column(column, overflow="fold")
    for row in info["config"]:
        table.add_row(*(escape(str(v)) for v in (row["name"], row["type"], repr(row["default"]), row["description"])))
    console.print(table)
