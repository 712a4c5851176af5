"""``medgan-zoo sample``: generate image/mask pairs from a model."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("sample")
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
    from .. import distributed
    from ..model import load

    opt.positive(count, "-n")
    options = opt.parse_settings(settings)
    if class_name is not None:
        options["classes"] = class_name
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
