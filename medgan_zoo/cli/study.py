"""``medgan-zoo study``: train, sample and evaluate every GAN on every data set (Table 2)."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("study")
@click.option("--gans", required=True, help="Comma-separated GANs, e.g. dcgan,lsgan,wgan,wgan-gp,hingegan.")
@click.option("--datasets", required=True, help="Comma-separated data sets, e.g. acdc-phantom or acdc.")
@click.option("--data-root", "data_roots", multiple=True, metavar="DATASET=DIR",
              help="Folder of a real data set (repeatable), e.g. acdc=~/data/ACDC.")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="quick", show_default=True)
@click.option("--steps", type=int, help="Training steps per GAN (quick: 300, paper: 20,000, StyleGAN2 its kimg).")
@click.option("--resolution", type=int, help="Training resolution (quick: 32, paper: 128).")
@click.option("--metrics", help="Comma-separated metrics (default: those marked default that can run here); the "
              "near-copy fraction is a column of every study.")
@click.option("-n", "count", type=int, help="Samples per GAN (quick: 256, paper: 10,000).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "settings", multiple=True, metavar="NAME.KEY=VALUE",
              help="A field of a metric (dice.steps=300), of the data set (dataset.KEY) or of one of --gans' configs "
              "(ddpm.preset=fast, spade.preset=fast) (repeatable).")
@click.option("--report/--no-report", "with_report", default=None,
              help="Write each data set's HTML report (Figs. 5-6) next to Table 2 (default: when the report "
              "extra is installed).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
def study_command(gans: str, datasets: str, data_roots: tuple[str, ...], scale: str, steps: int | None,
                  resolution: int | None, metrics: str | None, count: int | None, seed: int,
                  settings: tuple[str, ...], with_report: bool | None, out: Path) -> None:
    """Train (or load), sample and evaluate every GAN on every data set; write Table 2."""
    opt.one_process_only("study")
    from ..evaluation.study import study

    roots: dict[str, Path] = {}
    for item in data_roots:
        name, sep, directory = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected DATASET=DIR, got {item!r}", param_hint="--data-root")
        roots[name] = Path(directory).expanduser()
    names = [g.strip() for g in gans.split(",") if g.strip()]
    metric_config, dataset_config = opt.metric_settings(settings)
    gan_config = {name: metric_config.pop(name) for name in names if name in metric_config}  # --set GAN.KEY=V
    from ..training.errors import TrainingInterrupted

    try:
        folder = study(names,
                       [d.strip() for d in datasets.split(",") if d.strip()], out, scale=scale, steps=steps,
                       resolution=resolution, n=count, metrics=opt.metric_names(metrics) or None,
                       data_roots=roots, dataset_config=dataset_config, metric_config=metric_config,
                       gan_config=gan_config, seed=seed,
                       report=with_report)
    except (KeyboardInterrupt, TrainingInterrupted):  # no --resume: the same command skips what is done
        raise click.ClickException(f"interrupted: finished training runs and evaluations stay in {out}; the same "
                                   "command continues from them (it skips what is done)") from None
    click.echo((folder / "table2.md").read_text())
