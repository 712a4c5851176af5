"""Registers the diffusion models through the ``medgan_zoo`` entry point of this distribution."""

from __future__ import annotations

import medgan_zoo
from medgan_zoo import GanSpec

from .config import DdpmConfig, DdpmSpadeConfig

#: The diffusion models' default sweep space (shipped as data beside this module).
SPACE = "medgan_zoo_diffusion:space.yaml"


@medgan_zoo.hookimpl
def register_gans(register):
    register(GanSpec(
        name="ddpm", config=DdpmConfig, factory="medgan_zoo_diffusion.ddpm:create_ddpm",
        resolutions=(16, 32, 64, 128, 256), search_space=SPACE,
        summary="DDPM (Ho et al. 2020) on MONAI's DiffusionModelUNet: image and one-hot mask denoised together.",
    ))
    register(GanSpec(
        name="ddpm-spade", config=DdpmSpadeConfig, factory="medgan_zoo_diffusion.spade:create_ddpm_spade",
        conditional=True, resolutions=(16, 32, 64, 128, 256), search_space=SPACE,
        summary="DDPM that paints given masks: MONAI's SPADEDiffusionModelUNet (SPADE normalisation), with "
        "SPADE's mask sources.",
    ))
