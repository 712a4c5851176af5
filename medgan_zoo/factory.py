"""Building plugin objects by name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .registry import get_registry

if TYPE_CHECKING:
    from .data.slices import SliceDataset
    from .gans.base import GAN


def create_loss(name: str, **config: Any) -> Any:
    """An adversarial loss or regulariser by registered name, e.g. ``create_loss("hinge")``.

    Unknown names raise with the closest suggestions; unknown or invalid config keys raise a
    :class:`~medgan_zoo.errors.ConfigError` naming the field.
    """
    return get_registry().losses[name].create(**config)


def load_dataset(name: str, data_root: str | Path | None = None, split: str = "train",
                 resolution: int = 128, **config: Any) -> SliceDataset:
    """A split of a registered dataset as an in-memory torch Dataset of 2D image/mask pairs.

    ``data_root`` is the folder of a real data set as released (phantoms take none); every other
    keyword is a field of the dataset's config (``medgan-zoo plugins show dataset NAME``), and an
    unknown one is an error. Preprocessed tensors are cached on disk, so a second load is fast.
    """
    from .handover import calling

    spec = get_registry().datasets[name]
    values: dict[str, Any] = {"split": split, "resolution": resolution, **config}
    if data_root is not None:
        if "data_root" not in spec.config.model_fields:
            raise ConfigError(f"{spec.label} is generated, not read from disk: it takes no data_root")
        values["data_root"] = data_root
    checked = spec.make_config(values)
    fraction = float(getattr(checked, "val_fraction", 0.0))
    if checked.split == "val" and fraction == 0:
        raise ConfigError(f"{spec.label}: split 'val' needs val_fraction > 0 (the share of training subjects it "
                          "holds out), e.g. --set dataset.val_fraction=0.2")
    if checked.split in ("train", "val") and fraction > 0:
        from .data.validation import split_off

        whole = _checked(spec, calling(spec.label, "loading", spec.create, {**values, "split": "train"}), checked)
        return split_off(whole, checked.split, fraction, int(getattr(checked, "val_seed", 0)))
    return _checked(spec, calling(spec.label, "loading", spec.create, values), checked)  # a plugin's error: one line


def _checked(spec: Any, data: Any, config: Any) -> SliceDataset:
    """What a data set plugin returned, checked where it enters: a SliceDataset of square slices at the
    asked resolution with the spec's label map (where the spec has one)."""
    from .data.slices import DatasetError, SliceDataset

    if not isinstance(data, SliceDataset):
        raise DatasetError(f"{spec.label}: returned {type(data).__name__}, expected a SliceDataset (make_dataset)")
    shape = tuple(data.images.shape[-2:])
    if shape != (config.resolution, config.resolution):
        raise DatasetError(f"{spec.label}: returned {shape[0]}x{shape[1]} slices for resolution {config.resolution}")
    if spec.label_map is not None and data.label_map != dict(spec.label_map):
        raise DatasetError(f"{spec.label}: returned the label map {data.label_map}, its spec says {spec.label_map}")
    return data


def create_gan(name: str, *, with_discriminator: bool = True, **config: Any) -> GAN:
    """A GAN plugin object by name, e.g. ``create_gan("wgan-gp", resolution=128, lr=1e-4)``.

    ``with_discriminator=False`` builds only what sampling needs. Unknown names suggest the
    closest; invalid or unknown config keys raise a :class:`~medgan_zoo.errors.ConfigError`.
    """
    from .gans.config import GanConfig

    spec = get_registry().gans[name]
    cfg = spec.make_config(config)
    if not isinstance(cfg, GanConfig):
        raise ConfigError(f"{spec.label}: its config model must subclass medgan_zoo.gans.config.GanConfig")
    if cfg.resolution not in spec.resolutions:
        raise ConfigError(f"{spec.label} supports resolutions {list(spec.resolutions)}, not {cfg.resolution}")
    from .handover import calling

    return calling(spec.label, "building the GAN", spec.resolve_factory(), cfg, with_discriminator=with_discriminator)
