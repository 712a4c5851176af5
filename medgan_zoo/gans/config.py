"""Config fields every GAN has (pydantic only, so discovery stays light)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ..specs import PluginConfig


class GanConfig(PluginConfig):
    """Shape of the data and the knobs the engine reads; GAN plugins subclass it.

    ``resolution``, ``image_channels`` and ``num_classes`` are filled in from the dataset by
    :func:`medgan_zoo.train`; set them yourself only when building networks by hand.
    """

    resolution: int = Field(default=64, ge=4, description="Square output size in pixels.")
    image_channels: int = Field(
        default=1, ge=0, description="Image channels (1 for MRI/CT, 3 for RGB; 0 for a mask-only generator)."
    )
    num_classes: int = Field(
        default=4, ge=0,
        description="Mask classes including background, generated jointly as one-hot channels "
        "(0: images only).",
    )
    latent_dim: int = Field(default=100, ge=1, description="Size of the latent vector z.")
    batch_size: int = Field(default=32, ge=1, description="Real images per optimiser step.")
    ema: bool = Field(default=False, description="Keep an exponential moving average of the generator.")
    ema_decay: float = Field(default=0.999, gt=0, lt=1, description="Decay of the generator EMA.")

    @classmethod
    def resumed_unrecorded(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The config of a run resumed from a checkpoint written before checkpoints recorded their
        GAN config: the run's own settings ``data``, plus the values of fields added since that
        such a run ran with (a GAN whose added fields change a run overrides this)."""
        return data

    def training_steps(self) -> tuple[int, str] | None:
        """This GAN's own training length, for a run that gives no ``steps``: (steps, what they come
        from, e.g. ``"kimg=25000 at batch 32"``). None: the engine's default."""
        return None

    @model_validator(mode="after")
    def _has_output(self) -> GanConfig:
        if self.image_channels + self.num_classes == 0:
            raise ValueError("image_channels and num_classes cannot both be 0: the generator would output nothing")
        return self


DiffAugmentOp = Literal["color", "translation", "cutout"]


class DiffAugmentOption(PluginConfig):
    """Mixin: the engine applies this DiffAugment policy to every discriminator input it hands the
    GAN's step (``StepContext.diffaugment``)."""

    diffaugment: tuple[DiffAugmentOp, ...] = Field(
        default=(),
        description="DiffAugment policy applied to every discriminator input, real and generated "
        "(Zhao et al. 2020); 'color' touches image channels only.",
    )


class PairAugmentOptions(PluginConfig):
    """Mixin: the engine augments the real pairs it hands the GAN's step (``StepContext.batch``)."""

    augment: bool = Field(
        default=False,
        description="Augment real pairs: rotation, shift and scale move image and mask together; "
        "brightness and contrast touch image channels only.",
    )
    augment_rotate: float = Field(default=10.0, ge=0, le=180, description="Max rotation in degrees.")
    augment_translate: float = Field(default=0.06, ge=0, le=0.5, description="Max shift, fraction of the size.")
    augment_scale: float = Field(default=0.08, ge=0, lt=1, description="Max zoom in or out, fraction.")
    augment_flip_lr: bool = Field(
        default=False, description="Left-right flips (off: they put the RV on the wrong side)."
    )


class CriticSteps(PluginConfig):
    """Mixin: the GAN's step takes ``n_critic`` real batches (the engine counts images with it)."""

    n_critic: int = Field(default=1, ge=1, description="Discriminator steps per generator step.")


class ClassConditionOption(PluginConfig):
    """Mixin: a GAN that can be conditioned on the data set's classes (groups, e.g. ACDC's five
    pathologies). The engine fills ``class_names`` and ``class_shares`` from the training data."""

    class_conditional: bool = Field(
        default=False,
        description="Condition on the data set's classes (e.g. acdc-phantom with pathology=true): a class "
        "embedding in G and a projection discriminator (Miyato & Koyama 2018); sample(n, classes=...).",
    )
    class_names: tuple[str, ...] = Field(
        default=(), description="The classes, in order (filled from the data set when class_conditional).")
    class_shares: tuple[float, ...] = Field(
        default=(), description="Each class's share of the training slices (filled from the data set); "
        "sampling without classes draws them in these proportions.")
    class_embedding: int = Field(default=32, ge=1, description="Size of the generator's class embedding.")

    def class_weights(self) -> list[float]:
        """The classes' sampling proportions: ``class_shares``, or equal when none were recorded."""
        return list(self.class_shares) or [1.0] * len(self.class_names)

    @model_validator(mode="after")
    def _classes_known(self) -> ClassConditionOption:
        if self.class_conditional and not self.class_names:
            raise ValueError("class_conditional needs class_names: train on a data set whose slices carry a "
                             "class (acdc, or acdc-phantom with pathology=true)")
        if self.class_shares and len(self.class_shares) != len(self.class_names):
            raise ValueError(f"class_shares has {len(self.class_shares)} values for {len(self.class_names)} classes")
        return self


MaskSource = Literal["generator", "bank", "none"]


class MaskSourceConfig(GanConfig):
    """The settings of a mask-conditioned model's mask source (the model side:
    :mod:`medgan_zoo.gans.mask_sources`)."""

    mask_source: MaskSource = Field(
        default="generator",
        description="Masks when sampling without masks=: a small DCGAN trained on the training masks alongside "
        "the model (the only source allowed in a published checkpoint), the training masks with augmentations "
        "(local runs only: they are licensed ground truth), or none (masks must be given).",
    )
    mask_latent_dim: int = Field(default=64, ge=1, description="Latent size of the mask generator.")
    mask_filters: int = Field(default=32, ge=8, le=512, description="Width of the mask generator.")
    mask_lr: float = Field(default=2e-4, gt=0, description="Learning rate of the mask generator and its critic.")
