"""What every command module shares: the group class, option decorators, ``--set`` parsing and
JSON printing. It imports no command module (commands import it)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import click

from ..errors import MedganZooError
from ..jsonsafe import dumps

#: Errors of the disk a command writes to: one line naming the path, not a traceback.
DISK_ERRORS = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EDQUOT: "the disk quota is exceeded"}


class Group(click.Group):
    """A click group that turns medgan-zoo's own errors, and a full or read-only disk, into one-line
    messages (``medgan-zoo --debug ...``: the full traceback instead, causes included)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MedganZooError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if _debug(ctx) or exc.errno not in DISK_ERRORS:
                raise
            where = f" {exc.filename}" if exc.filename else ""
            doing = "write" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) else "read or write"
            raise click.ClickException(f"cannot {doing}{where}: {DISK_ERRORS[exc.errno]} ({exc.strerror}); nothing "
                                       "written before this was lost") from None


def _debug(ctx: click.Context) -> bool:
    """``medgan-zoo --debug ...`` or ``MEDGAN_ZOO_DEBUG=1``: tracebacks instead of one-line errors."""
    return bool((ctx.find_root().params or {}).get("debug")) or os.environ.get("MEDGAN_ZOO_DEBUG", "") not in ("", "0")


def print_json(data: Any) -> None:
    click.echo(dumps(data, indent=2))


def parse_settings(settings: tuple[str, ...]) -> dict[str, Any]:
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


def metric_settings(settings: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``--set METRIC.KEY=VALUE`` and ``--set dataset.KEY=VALUE`` pairs."""
    metrics: dict[str, dict[str, Any]] = {}
    dataset: dict[str, Any] = {}
    for key, value in parse_settings(settings).items():
        owner, dot, field = key.partition(".")
        if not dot:
            raise click.BadParameter(f"expected METRIC.KEY=VALUE or dataset.KEY=VALUE, got {key!r}", param_hint="--set")
        if owner == "dataset":
            dataset[field] = value
        else:
            metrics.setdefault(owner, {})[field] = value
    return metrics, dataset


def metric_names(text: str | None) -> list[str]:
    return [m.strip() for m in (text or "").split(",") if m.strip()]


def one_process_only(command: str) -> None:
    from .. import distributed

    if distributed.launched() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise click.ClickException(f"{command} does not split its work across torchrun's processes yet; run it as "
                                   "one process (docs/distributed.md)")


def positive(value: int | None, hint: str) -> None:
    if value is not None and value <= 0:
        raise click.BadParameter(f"must be positive, got {value}", param_hint=hint)


data_root = click.option("--data-root", type=click.Path(path_type=Path),
                         help="Folder of a real data set as released (phantoms need none).")
split = click.option("--split", type=click.Choice(["train", "test", "all"]), default="train", show_default=True)
resolution = click.option("--resolution", type=int, default=128, show_default=True)
dataset_settings = click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                                help="A config field of the dataset (repeatable), e.g. --set seed=3.")
SET_METRIC_HELP = ("A metric's config field as METRIC.KEY=VALUE (`medgan-zoo plugins show metric NAME` lists them), "
                   "or dataset.KEY=VALUE for the data set.")
metric_set = click.option("--set", "settings", multiple=True, metavar="METRIC.KEY=VALUE", help=SET_METRIC_HELP)
device = click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
