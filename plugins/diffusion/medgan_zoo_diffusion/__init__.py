"""Denoising diffusion models for medgan-zoo (distribution ``medgan-zoo-diffusion``)."""

__version__ = "0.1.0"
