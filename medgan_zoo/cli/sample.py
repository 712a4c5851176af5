"""``medgan-zoo sample``: generate image/mask pairs from a model."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


@click.command("sample")
@click.argument("model")
@click.option("-n", "count", type=int, required=True, help="Number of image + mask pairs.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--format", "fmt", type=click.Choice(["png", "npz", "nifti", "nnunet"]), default="png", show_default=True,
              help="nnunet: an nnU-Net v2 raw data set --out/DatasetXXX_NAME of 2-D PNG cases (docs/datasets.md).")
@click.option("--seed", type=int, help="Seed (default: random, recorded in samples.json).")
@click.option("--batch-size", type=int, help="Samples per forward pass (results do not depend on it).")
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A sampling option of the GAN, e.g. --set truncation=0.7 (StyleGAN2); repeatable.")
@click.option("--dataset-id", type=int, default=501, show_default=True, help="--format nnunet: the data set's id.")
@click.option("--name", default="Synth", show_default=True, help="--format nnunet: the data set's name.")
@click.option("--with-real", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="--format nnunet: add the real training pairs read from this data root (and its test pairs to "
              "imagesTs/labelsTs), read as the model's data set was (its settings; --set dataset.KEY=VALUE "
              "changes one).")
@click.option("--real-dataset", metavar="NAME", help="How --with-real is read (default: the model's data set if it "
              "reads files, else nnunet where dataset.json is, else folder).")
@click.option("--real-test/--no-real-test", default=True, show_default=True,
              help="--with-real: also write the real test pairs to imagesTs/labelsTs.")
@click.option("--allow-nan", is_flag=True, help="Load NaN weights and write NaN samples anyway (to look at a broken "
              "model).")
@click.option("--overwrite", is_flag=True, help="--format nnunet: replace a data set with the same id in --out.")
@click.option("--class", "class_name", metavar="NAME",
              help="A class-conditional model: generate this class only, e.g. dcm (default: each sample's class "
              "drawn in the training proportions; the classes go to classes_*.csv or the npz).")
def sample_command(model: str, count: int, out: Path, fmt: str, seed: int | None, batch_size: int | None,
                   device: str | None, settings: tuple[str, ...], dataset_id: int, name: str, with_real: Path | None,
                   real_dataset: str | None, real_test: bool, allow_nan: bool, overwrite: bool,
                   class_name: str | None) -> None:
    """Generate N pairs from MODEL (a folder, hf://org/repo[@rev], or a catalogue name) to --out."""
    from .. import distributed
    from ..model import load

    opt.positive(count, "-n")
    options = opt.parse_settings(settings)
    real_settings = {k.split(".", 1)[1]: options.pop(k) for k in list(options) if k.startswith("dataset.")}
    if class_name is not None:
        options["classes"] = class_name
    ctx = click.get_current_context()
    nnunet_only = [f"--{p.replace('_', '-')}" for p in ("dataset_id", "name", "with_real", "real_dataset",
                                                        "real_test", "overwrite")
                   if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT]
    if fmt != "nnunet" and nnunet_only:
        raise click.BadParameter(f"{nnunet_only[0]} is for --format nnunet", param_hint=nnunet_only[0])
    if real_settings and with_real is None:
        raise click.BadParameter("dataset.KEY settings are for the data set of --with-real", param_hint="--set")
    if fmt == "nnunet":
        opt.one_process_only("sample --format nnunet")
        from .real_pairs import write_nnunet

        write_nnunet(load(model, device=device, allow_nan=allow_nan), out, count, seed=seed, batch_size=batch_size,
                     options=options,
                     dataset_id=dataset_id, name=name, with_real=with_real, real_dataset=real_dataset,
                     real_settings=real_settings, real_test=real_test, overwrite=overwrite, class_name=class_name)
        return
    ranks = None
    if distributed.launched():  # torchrun: every rank writes its share of the batches
        if seed is None:
            raise click.BadParameter("sampling under torchrun needs --seed (every rank must draw the same "
                                     "samples)", param_hint="--seed")
        ranks = distributed.start(device)
        device = str(ranks.device)
    loaded = load(model, device=device, allow_nan=allow_nan)
    if fmt == "png" and loaded.info.image_channels not in (1, 3):
        raise click.UsageError(f"{loaded.info.gan} makes {loaded.info.image_channels}-channel images; PNG holds grey "
                               "or RGB: use --format npz, nifti or nnunet")
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
