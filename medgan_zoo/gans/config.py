"""Config fields every GAN has (pydantic only, so discovery stays light)."""

from __future__ import annotations

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

    @model_validator(mode="after")
    def _has_output(self) -> GanConfig:
        if self.image_channels + self.num_classes == 0:
            raise ValueError("image_channels and num_classes cannot both be 0: the generator would output nothing")
        return self
