"""Registers StyleGAN2 through the ``medgan_zoo`` entry point of this distribution."""

from __future__ import annotations

import medgan_zoo
from medgan_zoo import GanSpec

from .config import StyleGan2Config


@medgan_zoo.hookimpl
def register_gans(register):
    register(GanSpec(
        name="stylegan2", config=StyleGan2Config, factory="medgan_zoo_stylegan2.gan:create_stylegan2",
        resolutions=(8, 16, 32, 64, 128, 256, 512, 1024),
        summary="StyleGAN2 config F (Karras et al. 2020) with ADA, lazy R1 and path-length regularisation.",
    ))
