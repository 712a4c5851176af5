"""``medgan-zoo report``: the offline HTML page of Figs. 5-6."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("report")
@click.argument("models", nargs=-1, required=True)
@click.option("--dataset", required=True, help="The data set the models were trained on.")
@opt.data_root
@click.option("-n", "count", type=int, default=1000, show_default=True, help="Samples per model.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the samples, UMAP and the kNN test.")
@click.option("--scale", type=click.Choice(["quick", "paper"]), default="quick", show_default=True,
              help="Recipe of the reference U-Net whose features are shown (the U-Net FD metric's, same cache).")
@click.option("--inception-weights", type=click.Path(path_type=Path, dir_okay=False),
              help="Inception weights (default: $MEDGAN_ZOO_INCEPTION_WEIGHTS or the torch hub cache).")
@opt.device
@click.option("--set", "settings", multiple=True, metavar="METRIC.KEY=VALUE",
              help="dataset.KEY for the data set; METRIC.KEY for the metric whose network gives a feature space "
              "(the U-Net FD metric's reference U-Net: the same settings reuse its cached network) or draws the "
              "near-copy panel (its features, copy_quantile, pairs).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Report folder.")
def report_command(models: tuple[str, ...], dataset: str, data_root: Path | None, count: int, seed: int,
                   scale: str, inception_weights: Path | None, device: str | None, settings: tuple[str, ...],
                   out: Path) -> None:
    """One offline HTML page for MODELS: samples beside real slices (Fig. 5), their evaluation results,
    UMAP of U-Net and Inception features with a kNN two-sample number (Fig. 6), and near-copies
    (distances to the nearest training images against real test images', closest pairs)."""
    from ..reporting.build import report

    metric_config, dataset_config = opt.metric_settings(settings)
    page = report(list(models), dataset, out=out, data_root=data_root, dataset_config=dataset_config, n=count,
                  seed=seed, scale=scale, device=device, inception_weights=inception_weights,
                  metric_config=metric_config)
    click.echo(f"report written: {page} (open it in a browser; it needs no network)")
