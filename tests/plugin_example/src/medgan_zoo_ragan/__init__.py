"""medgan-zoo-ragan: the relativistic average GAN loss as a medgan-zoo plugin."""

from pydantic import Field

import medgan_zoo
from medgan_zoo import LossSpec, PluginConfig

__version__ = "0.1.0"


class RaGANConfig(PluginConfig):
    real_label: float = Field(
        default=1.0, gt=0.5, le=1.0,
        description="Discriminator target for real samples; below 1 is label smoothing.",
    )


@medgan_zoo.hookimpl
def register_losses(register):
    register(LossSpec(
        name="ragan",
        summary="Relativistic average GAN loss (Jolicoeur-Martineau, 2018).",
        role="adversarial",
        config=RaGANConfig,
        factory="medgan_zoo_ragan.loss:RelativisticAverageLoss",
    ))
