"""Registers SPADE through the ``medgan_zoo`` entry point of this distribution."""

from __future__ import annotations

import medgan_zoo
from medgan_zoo import GanSpec

from .config import SpadeConfig


@medgan_zoo.hookimpl
def register_gans(register):
    register(GanSpec(
        name="spade", config=SpadeConfig, factory="medgan_zoo_spade.gan:create_spade",
        conditional=True, resolutions=(32, 64, 128, 256),
        summary="SPADE (Park et al. 2019): mask-conditioned synthesis with spatially-adaptive normalisation.",
    ))
