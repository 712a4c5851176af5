"""``medgan-zoo demo``: the paper's headline on the cardiac phantom, sized for a CPU."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder (default: a new one under ./runs).")
@click.option("--steps", type=int,
              help="Training steps of every GAN (default: the recipe's; docs/training.md gives the time).")
@click.option("--unet-steps", type=int, help="U-Net steps of the Dice protocol (default: the recipe's 300).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the GANs' training and sampling.")
def demo_command(out: Path | None, steps: int | None, unet_steps: int | None, seed: int) -> None:
    """The paper's headline on the cardiac phantom: a baseline GAN and a stronger one side by side."""
    from ..demo import run_demo

    opt.positive(steps, "--steps")
    opt.positive(unet_steps, "--unet-steps")
    folder = run_demo(out=out, steps=steps, unet_steps=unet_steps, seed=seed)
    click.echo(f"demo finished: {folder / 'report.md'} (the grids, every number and the models are beside it)")
