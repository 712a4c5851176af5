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
@click.option("--resume", is_flag=True, help="Continue the interrupted demo in --out (finished models are kept).")
@click.option("--quick", is_flag=True, help="A shortened run (each GAN a fifth of its steps, U-Nets 100): the "
              "pipeline in well under a minute; its report says what that changes.")
def demo_command(out: Path | None, steps: int | None, unet_steps: int | None, seed: int, resume: bool,
                 quick: bool) -> None:
    """The paper's headline on the cardiac phantom: a baseline GAN and a stronger one side by side."""
    import datetime
    import shlex

    from ..demo import run_demo

    opt.positive(steps, "--steps")
    opt.positive(unet_steps, "--unet-steps")
    if resume and out is None:
        raise click.BadParameter("--resume continues the demo in a folder: give it as --out", param_hint="--resume")
    out = out or Path("runs") / f"demo-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    again = ["medgan-zoo", "demo", "--out", str(out), "--resume"]
    for flag, value in (("--steps", steps), ("--unet-steps", unet_steps), ("--seed", seed if seed else None)):
        if value is not None:
            again += [flag, str(value)]
    again += ["--quick"] if quick else []
    folder = run_demo(out=out, steps=steps, unet_steps=unet_steps, seed=seed, resume=resume,
                      again=shlex.join(again), quick=quick)
    click.echo(f"demo finished: {folder / 'report.md'} (the grids, every number and the models are beside it)")
