"""Registers the diffusion models through the ``medgan_zoo`` entry point of this distribution."""

from __future__ import annotations

import medgan_zoo
from medgan_zoo import GanSpec

from .config import DdpmConfig


@medgan_zoo.hookimpl
def register_gans(register):
    register(GanSpec(
        name="ddpm", config=DdpmConfig, factory="medgan_zoo_diffusion.ddpm:create_ddpm",
        resolutions=(16, 32, 64, 128, 256),
        summary="DDPM (Ho et al. 2020) on MONAI's DiffusionModelUNet: image and one-hot mask denoised together.",
    ))
