"""``medgan-zoo sweep``: the hyper-parameter search (run, status, report, best)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click

from . import options as opt


def _require() -> None:
    from ..search.needs import require_optuna

    require_optuna()


@click.group("sweep", cls=opt.Group)
def sweep_group() -> None:
    """The paper's hyper-parameter search on Optuna: one machine by default, many on PostgreSQL."""


_storage = click.option("--storage", metavar="URL",
                        help="postgresql://USER:PASSWORD@HOST:PORT/DB (several machines) or a journal file "
                        "path; default: the journal file in the study's folder.")
_study_folder = click.option("--from", "folder", type=click.Path(path_type=Path, file_okay=False),
                             help="The study's folder (default sweeps/NAME).")


@sweep_group.command("run")
@click.argument("gan")
@click.option("--dataset", required=True, help="Data set the trials train on.")
@opt.data_root
@click.option("--trials", type=int, required=True, help="Finished trials the study needs, all workers together.")
@click.option("--study", "study_name", required=True, help="Study name; workers with the same one join it.")
@_storage
@click.option("--space", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML search space (default: the GAN's own when its plugin ships one, as the diffusion models do; "
              "else the paper's Table 1, medgan_zoo/search/table1.yaml).")
@click.option("--objective", default="fid", show_default=True,
              help="Metric to optimise, or two comma-separated (fid,dice: a two-objective study).")
@click.option("--workers", type=int, default=1, show_default=True, help="Local worker processes.")
@click.option("--devices", help="Comma-separated devices the workers take in turn, e.g. cuda:0,cuda:1.")
@click.option("--resolution", type=int, default=64, show_default=True)
@click.option("--steps", type=int, default=2000, show_default=True, help="Generator steps per trial.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Fix a GAN config field for every trial (it leaves the space); dataset.KEY for the data set.")
@click.option("--eval-set", "eval_settings", multiple=True, metavar="METRIC.KEY=VALUE",
              help="A config field of an objective's metric, e.g. dice.steps=300.")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="paper", show_default=True,
              help="Objective at the metrics' quick presets (256 samples) or the paper's.")
@click.option("-n", "samples", type=int, help="Generated samples per evaluation (default: the scale's).")
@click.option("--sampler", type=click.Choice(["tpe", "random", "grid"]), default="tpe", show_default=True)
@click.option("--pruner", type=click.Choice(["median", "hyperband", "none"]), default="median", show_default=True)
@click.option("--startup-trials", type=int, default=5, show_default=True,
              help="Finished trials before the median pruner stops any.")
@click.option("--warmup-steps", type=int, default=0, show_default=True, help="Steps before a trial can be pruned.")
@click.option("--checkpoint-every", type=int, default=500, show_default=True,
              help="Steps between checkpoints, each scored for the pruner.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="The study's folder: trial run folders, journal file, logs (default sweeps/NAME).")
def sweep_run(gan: str, dataset: str, data_root: Path | None, trials: int, study_name: str, storage: str | None,
              space: Path | None, objective: str, workers: int, devices: str | None, resolution: int, steps: int,
              settings: tuple[str, ...], eval_settings: tuple[str, ...], scale: Literal["quick", "paper"],
              samples: int | None, sampler: Literal["tpe", "random", "grid"],
              pruner: Literal["median", "hyperband", "none"], startup_trials: int, warmup_steps: int,
              checkpoint_every: int, seed: int, folder: Path | None) -> None:
    """Run or join the study NAME: train GAN configurations from the space and score them."""
    _require()
    from ..search.run import sweep
    from ..search.status import format_table

    fixed: dict[str, Any] = {}
    dataset_config: dict[str, Any] = {}
    for key, value in opt.parse_settings(settings).items():
        if key.startswith("dataset."):
            dataset_config[key.removeprefix("dataset.")] = value
        elif key.startswith("train."):
            raise click.BadParameter(f"{key}: a sweep sets training with --steps, --checkpoint-every and --seed",
                                     param_hint="--set")
        else:
            fixed[key] = value
    metric_config, more_dataset = opt.metric_settings(eval_settings)
    dataset_config.update(more_dataset)
    result = sweep(gan, dataset, trials=trials, study=study_name, storage=storage, space=space,
                   objective=objective, workers=workers,
                   devices=[d.strip() for d in devices.split(",") if d.strip()] if devices else None,
                   resolution=resolution, steps=steps, fixed=fixed, data_root=data_root,
                   dataset_config=dataset_config, metric_config=metric_config, scale=scale, samples=samples,
                   sampler=sampler, pruner=pruner, startup_trials=startup_trials, warmup_steps=warmup_steps,
                   checkpoint_every=checkpoint_every, seed=seed, out=folder)
    objectives = [o.strip() for o in objective.split(",")]
    click.echo(format_table(result.rows, objectives))
    for row in result.best:
        click.echo(f"best: trial {row['trial']} in {result.folder / row['folder']}")
    click.echo(f"study {result.study} in {result.storage}; `medgan-zoo sweep report {result.study} --out DIR` "
               "draws its figures")


@sweep_group.command("status")
@click.argument("name")
@_storage
@_study_folder
def sweep_status(name: str, storage: str | None, folder: Path | None) -> None:
    """Trials of the study NAME by state, the best one, and each live worker's line."""
    _require()
    from ..search.status import status_text

    click.echo(status_text(name, storage, folder))


@sweep_group.command("report")
@click.argument("names", nargs=-1, required=True)
@_storage
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Report folder.")
def sweep_report(names: tuple[str, ...], storage: str | None, out: Path) -> None:
    """Figures 3 and 4, importances, history and every trial, for one study or several (GANs x data
    sets): NAME is a study name (folder sweeps/NAME) or a study folder."""
    _require()
    from ..search.report import write_report

    path = write_report(list(names), out, storage=storage)
    click.echo(f"report written: {path}")


@sweep_group.command("best")
@click.argument("name")
@_storage
@_study_folder
@click.option("--by", "by", help="Objective that picks the best trial of a two-objective study (default: the first).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Model folder to write (loadable by `medgan-zoo sample`).")
@click.option("--evaluate", "score_test", is_flag=True,
              help="Then score it once on the test split (the study selected on its validation split).")
@opt.data_root
@click.option("--device", help="cpu, cuda ... for --evaluate (default: CUDA when available).")
def sweep_best(name: str, storage: str | None, folder: Path | None, by: str | None, out: Path, score_test: bool,
               data_root: Path | None, device: str | None) -> None:
    """Export the best trial's model folder (chosen on the validation split)."""
    _require()
    from ..search.best import evaluate_best, export_best

    trial, path = export_best(name, out, storage=storage, folder=folder, by=by)
    click.echo(f"exported trial {trial} to {path} (chosen on the validation split; its scores there are in "
               f"{path / 'evaluation'})")
    if score_test:
        from ..evaluation.harness import headline_text

        results = evaluate_best(name, path, storage=storage, folder=folder, data_root=data_root, device=device)
        for metric in (k for k in results if k != "meta"):
            click.echo(f"test {metric}: {headline_text(results[metric])}")
        click.echo(f"wrote {path / 'evaluation-test' / 'evaluation.json'} (scored once on the test split)")
