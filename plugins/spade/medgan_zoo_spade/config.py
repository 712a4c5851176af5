"""SPADE's config (pydantic only, so discovery stays light)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from medgan_zoo.gans.config import MaskSourceConfig

Preset = Literal["paper", "pyramid", "fast"]


def preset_values(preset: str, resolution: int) -> dict[str, Any]:
    """Settings of a named SPADE variant. ``paper``: NVlabs/SPADE as published (``pix2pix`` model,
    ``num_upsampling_layers='normal'``, default options); ``pyramid``: medgan-zoo 0.1.0's default,
    one block per resolution from 4x4 and noise input; ``fast``: the pyramid cut down to meet
    the real data's Dice at MONAI's speed on a CPU (docs/benchmarks.md)."""
    common = {"spade_hidden": 128, "full_resolution_block": True, "widths": None, "filters": 64,
              "d_filters": 64, "d_layers": 4, "d_scales": 2, "d_first_spectral_norm": False,
              "feature_matching_weight": 10.0, "lr": 1e-4, "lr_d": 4e-4, "betas": (0.0, 0.9), "norm": "batch",
              "g_spectral_norm": True}
    if preset == "paper":  # NVlabs/SPADE's init_weights (xavier, 0.02)
        return {**common, "layout": "official", "input": "mask", "vgg_weight": 10.0, "vgg_layers": "spade",
                "init": "xavier"}
    # medgan-zoo's own layouts keep the layers' default init they were measured with: at 800 steps the
    # fast preset's Dice fell from 0.83-0.84 to 0.73-0.80 with xavier 0.02 (docs/spade.md)
    if preset == "pyramid":
        return {**common, "layout": "pyramid", "input": "noise", "vgg_weight": 0.0, "vgg_layers": "relu3_1",
                "init": "pytorch"}
    levels = max(int(math.log2(max(resolution, 8))) - 2, 1)  # blocks + 1 widths with the last at half size
    return {**common, "layout": "pyramid", "input": "noise", "vgg_weight": 0.0, "vgg_layers": "relu3_1",
            "widths": ([64] * levels + [32, 16])[-levels:], "spade_hidden": 64, "full_resolution_block": False,
            "d_filters": 16, "d_layers": 3, "init": "pytorch"}


PRESET_FIELDS = frozenset(preset_values("paper", 128))

class SpadeConfig(MaskSourceConfig):
    """SPADE (Park et al. 2019). ``preset`` fills every field of :data:`PRESET_FIELDS` that is not
    given; ``paper`` (default) is the published model. A recorded config keeps the conventions it
    was trained with (:attr:`ADDED_FIELDS`: 0.1.0's layout, and the PyTorch initialisation, {-1, 1}
    discriminator masks and batch-mean KL of models recorded before those fields)."""

    ADDED_FIELDS: ClassVar[Mapping[str, Any]] = {
        "preset": None, "layout": "pyramid", "vgg_layers": "relu3_1", "d_first_spectral_norm": True,  # 0.1.0
        "init": "pytorch", "init_gain": 0.02, "d_mask": "signed", "kl_reduction": "mean",
    }

    preset: Preset | None = Field(
        default="paper",
        description="Named variant filling the settings not given: 'paper' (NVlabs/SPADE as published: mask input, "
        "5 upsamplings from res/32 with widths 16-16-16-8-4-2-1 x filters, VGG loss), 'pyramid' (0.1.0's default: a "
        "block per resolution from 4x4, noise input) or 'fast' (the pyramid cut down for CPUs). None: all given.",
    )
    layout: Literal["official", "pyramid"] = Field(
        default="official",
        description="'official': NVlabs's generator (first map from the mask at res/32, head and two middle "
        "blocks at 16 x filters, then 8, 4, 2, 1 x filters per doubling); 'pyramid': one block per resolution "
        "from 4x4 with `widths`.",
    )
    latent_dim: int = Field(default=256, ge=1, description="Size of z (noise mode and VAE mode).")
    batch_size: int = Field(default=16, ge=1, description="Real pairs per step.")
    filters: int = Field(default=64, ge=8, le=512, description="Generator width at full resolution (ngf).")
    widths: list[Annotated[int, Field(ge=1)]] | None = Field(
        default=None,
        description="layout='pyramid': the 4x4 block's width, then each upsampling block's output. None: "
        "filters * min(2^(levels - i), 8).",
    )
    d_filters: int = Field(default=64, ge=8, le=512, description="Discriminator width of its first layer (ndf).")
    input: Literal["noise", "mask"] = Field(
        default="mask",
        description="First feature map from z through a linear layer (one mask gives many images) or from "
        "the downsampled mask (one mask, one image).",
    )
    vae: bool = Field(default=False, description="Train an image encoder (mu, logvar) for style-guided synthesis.")
    kl_weight: float = Field(default=0.05, ge=0, description="Weight of the KL term in VAE mode (lambda_kld).")
    kl_reduction: Literal["sum", "mean"] = Field(
        default="sum",
        description="VAE mode's KL term: 'sum' over the batch and the latent dimensions (NVlabs/SPADE's KLDLoss on "
        "one GPU; the global batch under torchrun) or 'mean' over the batch (models recorded before this field).",
    )
    init: Literal["xavier", "normal", "pytorch"] = Field(
        default="xavier",
        description="Initialisation of every convolution and linear layer of the generator, discriminator and "
        "encoder (NVlabs/SPADE's --init_type, the 'paper' preset's): Glorot normal or N(0, gain^2) with init_gain, "
        "biases 0, batch-norm weights N(1, 0.02); 'pytorch': the layers' own defaults (the 'pyramid' and 'fast' "
        "presets', and models recorded before this field).",
    )
    init_gain: float = Field(default=0.02, gt=0, description="Gain of 'xavier', std of 'normal' (--init_variance).")
    d_mask: Literal["binary", "signed"] = Field(
        default="binary",
        description="The one-hot mask beside the image in the discriminator's input: 'binary' {0, 1} (NVlabs/SPADE) "
        "or 'signed' {-1, 1} (models recorded before this field).",
    )
    norm: Literal["batch", "instance"] = Field(default="batch", description="Parameter-free norm inside SPADE.")
    spade_hidden: int = Field(default=128, ge=8, description="Channels of SPADE's shared mask convolution.")
    full_resolution_block: bool = Field(
        default=True,
        description="Run the last SPADE block at the output resolution (the paper's layout); off, the last block "
        "runs at half resolution and a nearest upsampling + convolution produce the image (MONAI's layout: "
        "2.5x faster steps, slightly worse downstream Dice in our measurements).",
    )
    g_spectral_norm: bool = Field(default=True, description="Spectral normalisation on generator convolutions.")
    d_first_spectral_norm: bool = Field(
        default=False,
        description="Spectral norm on each PatchGAN's first convolution too (the official code leaves it plain; "
        "0.1.0 models have it).",
    )
    d_scales: int = Field(default=2, ge=1, le=4, description="Scales of the multi-scale PatchGAN discriminator.")
    d_layers: int = Field(default=4, ge=2, le=6, description="Convolution layers per PatchGAN.")
    feature_matching_weight: float = Field(
        default=10.0, ge=0, description="pix2pixHD per-layer discriminator feature matching (L1) weight."
    )
    vgg_weight: float = Field(default=10.0, ge=0, description="Paired VGG-19 perceptual loss weight (lambda_vgg).")
    vgg_layers: Literal["spade", "relu3_1"] = Field(
        default="spade",
        description="'spade': L1 over relu1_1 ... relu5_1 weighted 1/32, 1/16, 1/8, 1/4, 1 on [-1, 1] inputs "
        "(SPADE's VGGLoss); 'relu3_1': L1 on relu3_1 of ImageNet-normalised inputs (0.1.0).",
    )
    vgg_weights: Path | None = Field(
        default=None,
        description="VGG-19 state dict (torchvision's vgg19-dcbb9e9d.pth); None: the torch hub cache.",
    )
    lr: float = Field(default=1e-4, gt=0, description="Generator learning rate (TTUR).")
    lr_d: float = Field(default=4e-4, gt=0, description="Discriminator learning rate (TTUR).")
    betas: tuple[float, float] = Field(default=(0.0, 0.9), description="Adam betas.")
    @classmethod
    def resumed_unrecorded(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A run whose checkpoint predates recorded configs trained with PyTorch's init, {-1, 1}
        masks in the discriminator and the batch-mean KL."""
        return {"init": "pytorch", "d_mask": "signed", "kl_reduction": "mean", **data}

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the fields not given from the preset."""
        preset, resolution = data.get("preset", "paper"), data.get("resolution", 64)
        if preset in ("paper", "pyramid", "fast") and isinstance(resolution, int):
            data = {**preset_values(preset, resolution), **data}
        return data

    @model_validator(mode="after")
    def _layout_fits(self) -> SpadeConfig:
        if self.layout == "official":
            if self.resolution < 32:
                raise ValueError(f"layout 'official' starts at resolution / 32 and needs at least 32x32, not "
                                 f"{self.resolution}: use preset='pyramid' or 'fast' below that")
            if self.widths is not None:
                raise ValueError("widths applies to layout 'pyramid'; the official layout's widths are multiples "
                                 "of filters")
        return self
