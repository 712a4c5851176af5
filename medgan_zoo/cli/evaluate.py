"""``medgan-zoo evaluate``: score one model with metric plugins."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("evaluate")
@click.argument("model")
@click.option("--dataset", required=True, help="Data set to compare against (its train and test splits).")
@opt.data_root
@click.option("--metrics", help="Comma-separated metric plugins (default: those marked default that can run here; "
              "`medgan-zoo plugins` lists them).")
@click.option("-n", "count", type=int, help="Generated samples (default 10,000; quick scale 256).")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="paper", show_default=True,
              help="quick: small U-Net budgets for CI and demos; paper: the protocol's full budgets.")
@click.option("--seed", type=int, default=0, show_default=True)
@opt.device
@opt.metric_set
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Write evaluation.json and .md here.")
@click.option("--allow-nan", is_flag=True, help="Score a model with NaN weights or samples anyway (to look at it).")
def evaluate_command(model: str, dataset: str, data_root: Path | None, metrics: str | None, count: int | None,
                     scale: str, seed: int, device: str | None, settings: tuple[str, ...], out: Path | None,
                     allow_nan: bool) -> None:
    """Sample from MODEL and score it against a data set; prints the headline of each metric.
    Under torchrun the ranks share the sampling, the feature extraction and the U-Nets."""
    from .. import distributed
    from ..evaluation.harness import default_metrics, evaluate, failures, headline_text

    opt.positive(count, "-n")
    metric_config, dataset_config = opt.metric_settings(settings)
    ranks = distributed.start(device, timeout=distributed.SHARED_WORK_TIMEOUT) if distributed.launched() else None
    main = ranks is None or ranks.main
    names = opt.metric_names(metrics) or default_metrics(note=lambda text: click.echo(text, err=True) if main else None)
    try:
        with distributed.sharing():
            results = evaluate(model, dataset, names, n=count, scale=scale, data_root=data_root,
                               dataset_config=dataset_config, metric_config=metric_config, seed=seed,
                               device=str(ranks.device) if ranks else device, out=out if main else None,
                               progress=main, strict=False, allow_nan=allow_nan)
    except KeyboardInterrupt:
        kept = f"the metrics finished before it are in {out / 'evaluation.json'}; " if out is not None else ""
        raise click.ClickException(f"interrupted: {kept}run the command again with --metrics for the rest") from None
    finally:
        if ranks is not None:
            distributed.finish()
    if not main:
        return
    if ranks is not None:
        click.echo(f"evaluated with {ranks.world} processes")
    for name in names:
        click.echo(f"{name}: {headline_text(results[name])}")
    if out is not None:
        click.echo(f"wrote {out / 'evaluation.json'} and {out / 'evaluation.md'}")
    failed = failures(results)
    if failed:  # every metric ran and was written; the exit status still says some failed
        where = " and in evaluation.json, the tracebacks in evaluation.log" if out is not None else ""
        raise click.ClickException(f"{len(failed)} of {len(names)} metric(s) failed: {', '.join(failed)} (the reasons "
                                   f"are above{where}; the others were kept)")
