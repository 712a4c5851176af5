"""``medgan-zoo train``: one training run into a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import MedganZooError
from . import options as opt


class TrainCommand(click.Command):
    """`train --help` ends with the GANs and data sets installed here (discovery is light)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ..registry import get_registry

        registry = get_registry()
        with formatter.section("Installed"):
            formatter.write_dl([("GANs", ", ".join(sorted(registry.gans))),
                                ("data sets", ", ".join(sorted(registry.datasets)))])
        super().format_epilog(ctx, formatter)


def plugin_settings(value: Any, where: object) -> dict[str, dict[str, Any]]:
    """``callback_plugins`` as given: a mapping of name -> fields, or a list of names."""
    if value is None:
        return {}
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return {name: {} for name in value}
    if isinstance(value, dict) and all(isinstance(v, dict) or v is None for v in value.values()):
        return {str(name): dict(config or {}) for name, config in value.items()}
    raise MedganZooError(f"{where}: callback_plugins must map callback names to their fields "
                         f"({{name: {{key: value}}}}) or list names, got {value!r}")


def train_settings(gan: str, dataset: str, config_file: Path | None, flags: dict[str, Any],
                   settings: tuple[str, ...]) -> dict[str, Any]:
    """Merge a YAML file, command-line flags and --set pairs (later wins) into TrainConfig fields.

    ``--set key=v`` sets a GAN config field; ``dataset.key=v`` a dataset field; ``train.key=v`` a
    training setting (seed, log_every, ...); ``callback.NAME.key=v`` a field of callback plugin NAME
    (which adds it to the run, as ``--callback NAME`` does)."""
    values: dict[str, Any] = {}
    if config_file is not None:
        import yaml

        try:
            loaded = yaml.safe_load(config_file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise MedganZooError(f"{config_file} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise MedganZooError(f"{config_file} must hold a mapping of training settings")
        values.update(loaded)
    values["gan"], values["dataset"] = gan, dataset
    gan_config = dict(values.pop("gan_config", None) or {})
    dataset_config = dict(values.pop("dataset_config", None) or {})
    callbacks = plugin_settings(values.pop("callback_plugins", None), config_file or "--config")
    for name in flags.pop("callbacks", None) or ():
        callbacks.setdefault(name, {})
    for key, value in flags.items():
        if value is None:
            continue
        if key == "batch_size":
            gan_config["batch_size"] = value
        else:
            values[key] = value
    for key, value in opt.parse_settings(settings).items():
        if key.startswith("dataset."):
            dataset_config[key.removeprefix("dataset.")] = value
        elif key == "train.callback_plugins":
            for name, config in plugin_settings(value, "--set train.callback_plugins").items():
                callbacks.setdefault(name, {}).update(config)
        elif key.startswith("train."):
            values[key.removeprefix("train.")] = value
        elif key.startswith("callback."):
            name, dot, field = key.removeprefix("callback.").partition(".")
            if not dot or not name or not field:
                raise click.BadParameter(f"expected callback.NAME.KEY=VALUE, got {key!r}", param_hint="--set")
            callbacks.setdefault(name, {})[field] = value
        else:
            gan_config[key] = value
    values["gan_config"], values["dataset_config"] = gan_config, dataset_config
    if callbacks:
        values["callback_plugins"] = callbacks
    return values


@click.command("train", cls=TrainCommand)
@click.argument("gan")
@click.option("--dataset", required=True, help="Dataset name, e.g. acdc or acdc-phantom.")
@opt.data_root
@click.option("--resolution", type=int, help="Training resolution (default 64).")
@click.option("--steps", type=int, help="Generator updates (default: a resumed run's own; the GAN's own length, "
              "e.g. StyleGAN2's kimg; else 2000).")
@click.option("--batch-size", type=int, help="Real images per step.")
@click.option("--seed", type=int, help="Seed of the whole run (default 0).")
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of training settings (TrainConfig fields, gan_config, dataset_config).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="GAN config field; dataset.KEY, train.KEY or callback.NAME.KEY for the others (repeatable).")
@click.option("--callback", "callbacks", multiple=True, metavar="NAME",
              help="Add the callback plugin NAME to the run (repeatable; `medgan-zoo plugins` lists them).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Run folder.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
def train_command(gan: str, dataset: str, data_root: Path | None, resolution: int | None, steps: int | None,
                  batch_size: int | None, seed: int | None, device: str | None, config_file: Path | None,
                  settings: tuple[str, ...], callbacks: tuple[str, ...], out: Path, resume: bool) -> None:
    """Train GAN on a dataset; the run folder ends up loadable by `medgan-zoo sample`.

    \b
    CPU-sized configurations (minutes on 2 cores, phantom data):
      medgan-zoo train dcgan --dataset acdc-phantom --resolution 32 --steps 2000 --out runs/dcgan
      medgan-zoo train spade --dataset acdc-phantom --resolution 32 --steps 3200 --set preset=fast --out runs/spade
      medgan-zoo train stylegan2 --dataset acdc-phantom --resolution 32 --steps 200 --batch-size 16
        --set channel_base=2048 --set channel_max=128 --set mapping_layers=4 --out runs/sg2
    The published configurations (SPADE's `paper`, StyleGAN2's config F at 128 px) need a GPU.
    """
    from ..training.config import make_train_config
    from ..training.engine import Trainer

    flags = {"data_root": data_root, "resolution": resolution, "steps": steps, "batch_size": batch_size,
             "seed": seed, "device": device, "callbacks": callbacks}
    config = make_train_config(train_settings(gan, dataset, config_file, flags, settings))
    trainer = Trainer(config, out, resume)
    result = trainer.run()
    if trainer.main:  # under torchrun, rank 0 speaks for the run
        ranks = f" on {trainer.config.world_size} ranks" if trainer.config.world_size > 1 else ""
        click.echo(f"trained {gan} on {dataset} for {result.steps} steps{ranks} in {result.seconds:.0f} s "
                   f"({result.images_per_second:.0f} images/s); model in {out}")
