"""Configs of the DCGAN family: every knob of the paper's Table 1, with per-GAN defaults.

pydantic only, so discovery stays light. Defaults follow each GAN's original paper where the
study's Table 1 leaves a choice open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from .config import (
    ClassConditionOption,
    CriticSteps,
    DiffAugmentOp,
    DiffAugmentOption,
    GanConfig,
    PairAugmentOptions,
)

__all__ = ["DiffAugmentOp"]  # kept importable from here (0.1.0)

Activation = Literal["relu", "leaky-relu", "elu", "selu"]
Norm = Literal["batch", "instance", "none"]
Init = Literal["normal", "xavier", "xavier-uniform", "kaiming"]


class DcganFamilyConfig(GanConfig, PairAugmentOptions, DiffAugmentOption, CriticSteps, ClassConditionOption):
    """Architecture and training knobs shared by DCGAN, LSGAN, WGAN, WGAN-GP and HingeGAN."""

    g_filters: int = Field(default=64, ge=8, le=512,
                           description="Filters of the generator's last block (Table 1: 16-128).")
    d_filters: int = Field(default=64, ge=8, le=512,
                           description="Filters of the discriminator's first block (Table 1: 16-128).")
    g_activation: Activation = Field(default="relu", description="Generator activation.")
    d_activation: Activation = Field(default="leaky-relu",
                                     description="Discriminator activation (LeakyReLU slope 0.2).")
    g_norm: Norm = Field(default="batch", description="Generator normalisation (BatchNorm / InstanceNorm).")
    d_norm: Norm = Field(default="batch", description="Discriminator normalisation (none on its first layer).")
    g_spectral_norm: bool = Field(default=False, description="Spectral normalisation on generator convolutions.")
    d_spectral_norm: bool = Field(default=False, description="Spectral normalisation on discriminator convolutions.")
    init: Init = Field(default="normal", description="Weight initialisation of convolutions.")
    init_gain: float | None = Field(
        default=None, gt=0,
        description="Std of 'normal'; gain of 'xavier'/'xavier-uniform' (pix2pix convention); a factor on "
        "He's std for 'kaiming' (whose slope follows each network's activation). None: 1.0 for 'kaiming' "
        "(He et al. as published), 0.02 otherwise.",
    )
    optimizer: Literal["adam", "rmsprop"] = Field(default="adam", description="Optimiser of both networks.")
    lr: float = Field(default=2e-4, gt=0, description="Generator learning rate.")
    lr_d: float | None = Field(default=None, gt=0, description="Discriminator learning rate (None: lr).")
    betas: tuple[float, float] = Field(default=(0.5, 0.999), description="Adam betas.")
    feature_matching_weight: float = Field(
        default=0.0, ge=0,
        description="Weight of Salimans-style feature matching: squared distance between the mean "
        "discriminator features of a real and a generated batch, added to the generator loss.",
    )
    vgg_weight: float = Field(
        default=0.0, ge=0,
        description="Weight of the same distance in VGG-19 feature space (image channels only).",
    )
    vgg_weights: Path | None = Field(
        default=None,
        description="VGG-19 state dict (torchvision's vgg19-dcbb9e9d.pth); None: the torch hub cache.",
    )
    loss: str | None = Field(
        default=None,
        description="A registered adversarial loss to train with instead of this GAN's own (e.g. a plugin's "
        "'ragan'; `medgan-zoo plugins` lists them); None: the GAN's own objective.",
    )
    loss_config: dict[str, Any] = Field(default_factory=dict, description="Config fields of that loss.")


class DcganConfig(DcganFamilyConfig):
    label_smoothing: float = Field(
        default=0.0, ge=0, lt=0.5, description="One-sided: real targets become 1 - label_smoothing."
    )


class LsganConfig(DcganFamilyConfig):
    label_smoothing: float = Field(
        default=0.0, ge=0, lt=0.5, description="One-sided: real targets become 1 - label_smoothing."
    )


class WganConfig(DcganFamilyConfig):
    optimizer: Literal["adam", "rmsprop"] = Field(default="rmsprop", description="Optimiser (WGAN: RMSprop).")
    lr: float = Field(default=5e-5, gt=0, description="Learning rate (WGAN: 5e-5).")
    n_critic: int = Field(default=5, ge=1, description="Critic steps per generator step.")
    clip_value: float = Field(
        default=0.01, ge=0,
        description="Critic weights are clipped to [-c, c] after each step; 0 turns clipping off "
        "(Table 1: 0/0.01/0.1).",
    )


class WganGpConfig(DcganFamilyConfig):
    lr: float = Field(default=1e-4, gt=0, description="Learning rate (WGAN-GP: 1e-4).")
    betas: tuple[float, float] = Field(default=(0.0, 0.9), description="Adam betas (WGAN-GP: 0, 0.9).")
    n_critic: int = Field(default=5, ge=1, description="Critic steps per generator step.")
    d_norm: Literal["batch", "instance", "none"] = Field(
        default="instance",
        description="Critic normalisation; BatchNorm mixes samples, which the penalty assumes it does not.",
    )
    gp_weight: float = Field(default=10.0, ge=0, description="Weight of the gradient penalty (lambda).")


class HingeganConfig(DcganFamilyConfig):
    d_spectral_norm: bool = Field(default=True, description="Spectral normalisation on discriminator convolutions.")
