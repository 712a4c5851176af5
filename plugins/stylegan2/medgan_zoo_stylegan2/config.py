"""StyleGAN2's config (pydantic only, so discovery stays light)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from medgan_zoo.gans.config import ClassConditionOption, DiffAugmentOp, DiffAugmentOption, GanConfig

Preset = Literal["stylegan2", "auto"]


def preset_values(preset: str, resolution: int, gpus: int = 1) -> dict[str, Any]:
    """The training settings of NVIDIA's ``train.py --cfg=PRESET --gpus=GPUS`` (NVlabs/stylegan2-ada-pytorch,
    ``setup_training_loop_kwargs``): ``stylegan2`` is config F as published; ``auto`` derives its
    minibatch from the resolution and GPU count, and R1 weight, EMA and minibatch-std group from that
    minibatch. A batch size given with ``auto`` replaces only the batch, as ``--batch`` does."""
    if preset == "stylegan2":
        return {"batch_size": 32, "mbstd_group": 4, "channel_base": 32768, "channel_max": 512, "lr": 0.002,
                "lr_d": 0.002, "r1_gamma": 10.0, "ema_kimg": 10.0, "ema_rampup": None, "mapping_layers": 8}
    mb = max(min(gpus * min(4096 // resolution, 32), 64), gpus)
    lr = 0.002 if resolution >= 1024 else 0.0025
    return {"batch_size": mb, "mbstd_group": min(mb // gpus, 4),
            "channel_base": int((1 if resolution >= 512 else 0.5) * 32768), "channel_max": 512, "lr": lr,
            "lr_d": lr, "r1_gamma": 0.0002 * resolution**2 / mb, "ema_kimg": mb * 10 / 32,
            "ema_rampup": 0.05, "mapping_layers": 2}


def _integer(value: Any) -> int | None:
    """An integer given as a number or as its digits (text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def launched_ranks() -> int:
    """torchrun's world size (1 outside torchrun): NVIDIA's ``--gpus`` for the ``auto`` preset."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return max(int(os.environ["WORLD_SIZE"]), 1)
    return 1


#: Every field a preset sets; a config that records all of them (a saved model) needs no preset.
PRESET_FIELDS = frozenset(preset_values("stylegan2", 128))


class StyleGan2Config(GanConfig, DiffAugmentOption, ClassConditionOption):
    """Config F of Karras et al. (2020), plus ADA. ``preset`` fills every field of
    :data:`PRESET_FIELDS` that is not given with NVIDIA's values for that configuration. A recorded
    config keeps what it ran with (:attr:`ADDED_FIELDS`: no length of its own, the discriminator's
    label mapping as deep as the generator's, one GPU)."""

    ADDED_FIELDS: ClassVar[Mapping[str, Any]] = {
        "preset": None, "micro_batch": None, "ema_kimg": None, "ema_rampup": None, "class_conditional": False,
        "class_names": (), "class_shares": (), "class_embedding": 32,  # before the presets
        "kimg": None, "d_mapping_layers": None, "gpus": 1,
    }

    preset: Preset | None = Field(
        default="stylegan2",
        description="NVIDIA's training configuration that fills the settings not given: 'stylegan2' (config F: "
        "batch 32, R1 gamma 10, 8 mapping layers, lr 0.002, EMA 10 kimg) or 'auto' (from the resolution: "
        "half widths, R1 0.0002 res^2 / batch, 2 mapping layers, lr 0.0025, EMA ramp-up). None: every value given.",
    )
    resolution: int = Field(default=128, description="Square output size: a power of two from 8 to 1024.")
    latent_dim: int = Field(default=512, ge=1, description="Size of z.")
    w_dim: int = Field(default=512, ge=1, description="Size of the intermediate latent w.")
    mapping_layers: int = Field(default=8, ge=1, description="Fully connected layers of the mapping network.")
    d_mapping_layers: int | None = Field(
        default=8, ge=1,
        description="Layers of the class-conditional discriminator's label mapping: NVIDIA's Discriminator builds "
        "it with MappingNetwork's default 8 (--map reaches only the generator). None: mapping_layers (models "
        "recorded before this field).",
    )
    mapping_lr_mult: float = Field(default=0.01, gt=0, description="Learning-rate multiplier of the mapping net.")
    channel_base: int = Field(default=32768, ge=16,
                              description="Channels at resolution r: channel_base / r (at least 1) ...")
    channel_max: int = Field(default=512, ge=1, description="... capped at channel_max.")
    batch_size: int = Field(default=32, ge=1, description="Real images per step (the global batch under torchrun).")
    gpus: int | None = Field(
        default=None, ge=1,
        description="NVIDIA's --gpus, from which the 'auto' preset derives its minibatch. None: the torchrun world "
        "size (1 without torchrun); recorded as used.",
    )
    kimg: float | None = Field(
        default=25000, gt=0,
        description="Training length in thousands of real images (NVIDIA's --kimg, 25,000: weeks on one GPU); a "
        "run without --steps trains ceil(kimg * 1000 / batch_size) steps. None: the engine's default.",
    )
    micro_batch: int | None = Field(
        default=None, ge=1,
        description="Samples per forward/backward pass; each phase accumulates gradients over batch_size / "
        "micro_batch passes (NVIDIA's batch_gpu). Lowers peak memory; None: the whole batch at once.",
    )
    lr: float = Field(default=0.002, gt=0, description="Generator learning rate (Adam).")
    lr_d: float = Field(default=0.002, gt=0, description="Discriminator learning rate (Adam).")
    betas: tuple[float, float] = Field(default=(0.0, 0.99), description="Adam betas.")
    r1_gamma: float | None = Field(
        default=10.0, ge=0,
        description="R1 weight (set by the preset); None: NVIDIA's 'auto' heuristic 0.0002 * resolution^2 / "
        "batch_size.",
    )
    r1_interval: int = Field(default=16, ge=1, description="Lazy R1: every this many steps (0 weight off).")
    pl_weight: float = Field(default=2.0, ge=0, description="Path-length regularisation weight (0: off).")
    pl_interval: int = Field(default=4, ge=1, description="Lazy path-length regularisation interval.")
    pl_decay: float = Field(default=0.01, gt=0, lt=1, description="Decay of the running mean path length.")
    pl_batch_shrink: int = Field(default=2, ge=1, description="Path-length batch = batch_size / this.")
    style_mixing: float = Field(default=0.9, ge=0, le=1, description="Probability of style mixing per sample.")
    mbstd_group: int = Field(default=4, ge=1, description="Minibatch standard deviation group size.")
    mbstd_channels: int = Field(default=1, ge=1, description="Minibatch standard deviation feature channels.")
    w_avg_beta: float = Field(default=0.995, gt=0, lt=1, description="Tracking of the truncation centre (mean w).")
    ema: bool = Field(default=True, description="Keep an EMA generator (sampled from).")
    ema_decay: float = Field(default=0.998, gt=0, lt=1,
                             description="Per-step EMA decay; derived from ema_kimg unless that is null (setting "
                             "ema_decay alone turns ema_kimg off).")
    ema_kimg: float | None = Field(
        default=10.0, gt=0,
        description="EMA half-life in thousands of images (NVIDIA's): ema_decay = 0.5^(batch / (1000 ema_kimg)).",
    )
    ema_rampup: float | None = Field(
        default=None, gt=0,
        description="Early in training the EMA half-life is at most this fraction of the images seen (the 'auto' "
        "preset's 0.05; config F has none): short runs get a sharp EMA.",
    )
    ada: bool = Field(default=True, description="Adaptive discriminator augmentation (Karras et al. 2020b).")
    ada_target: float = Field(default=0.6, gt=0, lt=1, description="Target of the overfitting measure r_t.")
    ada_kimg: float = Field(default=500, gt=0, description="Thousand images for p to move from 0 to 1.")
    ada_interval: int = Field(default=4, ge=1, description="Steps between adjustments of p.")
    ada_flip_lr: bool = Field(
        default=False,
        description="Allow left-right flips in ADA (off: anatomy has a side, e.g. the right ventricle).",
    )
    diffaugment: tuple[DiffAugmentOp, ...] = Field(
        default=(), description="DiffAugment operations instead of ADA (color, translation, cutout)."
    )
    modconv: Literal["scaled", "reference"] = Field(
        default="scaled",
        description="Modulated convolution: 'scaled' (input scaled by styles, one dense convolution, output "
        "scaled by demodulation; faster) or 'reference' (per-sample weights, grouped convolution). Equal results.",
    )

    @field_validator("resolution")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 8 or value > 1024 or value & (value - 1):
            raise ValueError(f"resolution must be a power of two from 8 to 1024, not {value}")
        return value

    @classmethod
    def resumed_unrecorded(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A run whose checkpoint predates recorded configs had no length of its own, one GPU, a
        label mapping as deep as the generator's and, under ``auto`` with a given batch, R1, EMA and
        minibatch-std group derived from that batch."""
        old: dict[str, Any] = {"kimg": None, "d_mapping_layers": None, "gpus": 1}
        batch, resolution = _integer(data.get("batch_size")), _integer(data.get("resolution", 128))
        if data.get("preset") == "auto" and batch and resolution:
            old.update(r1_gamma=0.0002 * resolution**2 / batch, ema_kimg=batch * 10 / 32, mbstd_group=min(batch, 4))
        return {**old, **data}

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the fields not given from the preset (``auto``: for ``gpus`` GPUs)."""
        if data.get("gpus") is None:
            data["gpus"] = launched_ranks()
        preset, resolution, gpus = data.get("preset", "stylegan2"), data.get("resolution", 128), data["gpus"]
        resolution, gpus = _integer(resolution) or resolution, _integer(gpus) or gpus  # text from YAML or --set
        if preset in ("stylegan2", "auto") and isinstance(resolution, int) and isinstance(gpus, int):
            values = preset_values(preset, resolution, gpus)
            if "ema_decay" in data and "ema_kimg" not in data:
                values["ema_kimg"] = None  # an explicit per-step decay replaces the preset's half-life
            data = {**values, **data}
        return data

    @model_validator(mode="after")
    def _one_augmentation(self) -> StyleGan2Config:
        if self.ada and self.diffaugment:
            raise ValueError("ada and diffaugment are alternatives: set ada=false to use diffaugment")
        if self.ema_kimg is not None:
            derived = 0.5 ** (self.batch_size / (1000 * self.ema_kimg))
            if "ema_decay" in self.model_fields_set and abs(self.ema_decay - derived) > 1e-12:
                raise ValueError(f"ema_decay={self.ema_decay} and ema_kimg={self.ema_kimg} (decay {derived:.6g}) "
                                 "disagree: set one of them (ema_kimg=null to use ema_decay)")
            object.__setattr__(self, "ema_decay", derived)
        return self

    def training_steps(self) -> tuple[int, str] | None:
        """``kimg`` as steps of ``batch_size`` images (NVIDIA's loop stops at kimg * 1000 images)."""
        if self.kimg is None:
            return None
        return math.ceil(self.kimg * 1000 / self.batch_size), f"kimg={self.kimg:g} at batch {self.batch_size}"

    @property
    def r1(self) -> float:
        """The R1 weight in use (explicit or NVIDIA's heuristic)."""
        if self.r1_gamma is not None:
            return self.r1_gamma
        return 0.0002 * self.resolution**2 / self.batch_size

    def channels(self, resolution: int) -> int:
        """Feature maps at ``resolution`` (at least 1)."""
        return max(min(self.channel_base // resolution, self.channel_max), 1)
