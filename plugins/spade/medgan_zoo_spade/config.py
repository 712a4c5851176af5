"""SPADE's config (pydantic only, so discovery stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from medgan_zoo.gans.config import GanConfig


class SpadeConfig(GanConfig):
    latent_dim: int = Field(default=256, ge=1, description="Size of z (noise mode and VAE mode).")
    batch_size: int = Field(default=16, ge=1, description="Real pairs per step.")
    filters: int = Field(default=64, ge=8, le=512, description="Generator width at full resolution (ngf).")
    widths: list[Annotated[int, Field(ge=1)]] | None = Field(
        default=None,
        description="Generator widths: the 4x4 block, then each upsampling SPADE block's output. None: "
        "filters * min(2^(levels - i), 8), SPADE's schedule.",
    )
    d_filters: int = Field(default=64, ge=8, le=512, description="Discriminator width of its first layer (ndf).")
    input: Literal["noise", "mask"] = Field(
        default="noise",
        description="First feature map from z through a linear layer (one mask gives many images) or from "
        "the downsampled mask (one mask, one image).",
    )
    vae: bool = Field(default=False, description="Train an image encoder (mu, logvar) for style-guided synthesis.")
    kl_weight: float = Field(default=0.05, ge=0, description="Weight of the KL term in VAE mode.")
    norm: Literal["batch", "instance"] = Field(default="batch", description="Parameter-free norm inside SPADE.")
    spade_hidden: int = Field(default=128, ge=8, description="Channels of SPADE's shared mask convolution.")
    full_resolution_block: bool = Field(
        default=True,
        description="Run the last SPADE block at the output resolution (the paper's layout); off, the last block "
        "runs at half resolution and a nearest upsampling + convolution produce the image (MONAI's layout: "
        "2.5x faster steps, slightly worse downstream Dice in our measurements).",
    )
    g_spectral_norm: bool = Field(default=True, description="Spectral normalisation on generator convolutions.")
    d_scales: int = Field(default=2, ge=1, le=4, description="Scales of the multi-scale PatchGAN discriminator.")
    d_layers: int = Field(default=4, ge=2, le=6, description="Convolution layers per PatchGAN.")
    feature_matching_weight: float = Field(
        default=10.0, ge=0, description="pix2pixHD per-layer discriminator feature matching (L1) weight."
    )
    vgg_weight: float = Field(default=0.0, ge=0, description="Paired VGG-19 (relu3_1, L1) perceptual loss weight.")
    vgg_weights: Path | None = Field(default=None, description="VGG-19 state dict; None: the torch hub cache.")
    lr: float = Field(default=1e-4, gt=0, description="Generator learning rate (TTUR).")
    lr_d: float = Field(default=4e-4, gt=0, description="Discriminator learning rate (TTUR).")
    betas: tuple[float, float] = Field(default=(0.0, 0.9), description="Adam betas.")
    mask_source: Literal["generator", "bank", "none"] = Field(
        default="generator",
        description="Masks when sampling without masks=: a small DCGAN trained on the training masks alongside "
        "SPADE (the only source allowed in a published checkpoint), the training masks with augmentations "
        "(local runs only: they are licensed ground truth), or none (masks must be given).",
    )
    mask_latent_dim: int = Field(default=64, ge=1, description="Latent size of the mask generator.")
    mask_filters: int = Field(default=32, ge=8, le=512, description="Width of the mask generator.")
    mask_lr: float = Field(default=2e-4, gt=0, description="Learning rate of the mask generator and its critic.")
