"""``medgan-zoo weights``: the third-party weights files, what needs them, and fetching them."""

from __future__ import annotations

import click

from . import options as opt


@click.group("weights", cls=opt.Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def weights_group(ctx: click.Context, as_json: bool) -> None:
    """List the third-party weights files: present or missing, where, and what needs them."""
    if ctx.invoked_subcommand is not None:
        return
    from ..third_party import status

    rows = status()
    if as_json:
        opt.print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']}: {row['state']} ({row['path']})\n  needed by {row['needed_by']}")
    if any(row["state"] != "present" for row in rows):
        click.echo("fetch with: medgan-zoo weights fetch NAME (or --all)")


@weights_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every file the toolkit knows.")
@click.option("--force", is_flag=True, help="Download again even when a checked copy is there.")
def weights_fetch(names: tuple[str, ...], everything: bool, force: bool) -> None:
    """Download NAMES (vgg19, inception), check each file's sha256, place it where the toolkit looks."""
    from ..third_party import KNOWN, fetch

    chosen = list(KNOWN) if everything else list(names)
    if not chosen:
        raise click.UsageError(f"name the files ({', '.join(KNOWN)}) or pass --all")
    for name in chosen:
        path = fetch(name, progress=True, force=force)
        click.echo(f"{name}: {path} (sha256 checked)")
