"""The ``ddpm`` and ``ddpm-spade`` configs (pydantic only, so discovery stays light)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from medgan_zoo.gans.config import GanConfig, MaskSourceConfig

Preset = Literal["paper", "fast"]
Sampler = Literal["ddpm", "ddim"]


def preset_values(preset: str) -> dict[str, Any]:
    """``paper``: the 2D DDPM of MONAI's tutorial (Project-MONAI/tutorials,
    generation/2d_ddpm/2d_ddpm_tutorial.ipynb): its network, 1,000 training timesteps, its linear
    schedule, epsilon prediction, Adam at 2.5e-5, batch 64, no EMA, DDPM sampling over all 1,000
    steps. ``fast``: a smaller network for CPUs and phantoms, EMA, DDIM with 50 steps."""
    if preset == "paper":
        return {"channels": (128, 256, 256), "attention_levels": (False, True, True), "num_res_blocks": 1,
                "num_head_channels": 256, "num_train_timesteps": 1000, "schedule": "linear_beta",
                "prediction": "epsilon", "lr": 2.5e-5, "batch_size": 64, "ema": False, "sampler": "ddpm",
                "sampling_steps": 1000}
    return {"channels": (32, 64, 64), "attention_levels": (False, False, True), "num_res_blocks": 1,
            "num_head_channels": 64, "num_train_timesteps": 1000, "schedule": "linear_beta",
            "prediction": "epsilon", "lr": 5e-4, "batch_size": 16, "ema": True, "ema_decay": 0.995,
            "sampler": "ddim", "sampling_steps": 50}


PRESET_FIELDS = frozenset(preset_values("paper"))


class DdpmConfig(GanConfig):
    """A denoising diffusion model of the joint image + one-hot mask (Ho et al. 2020), on MONAI's
    ``DiffusionModelUNet`` and schedulers. ``preset`` fills every field of :data:`PRESET_FIELDS` that
    is not given."""

    preset: Preset | None = Field(
        default="paper",
        description="Named configuration filling the settings not given: 'paper' (MONAI's 2D DDPM tutorial: "
        "channels 128-256-256, attention on the two deeper levels, 1,000 steps, lr 2.5e-5, DDPM sampling; a GPU) "
        "or 'fast' (channels 32-64-64, EMA 0.995, DDIM-50 sampling; minutes on a CPU at 32x32). None: all given.",
    )
    channels: tuple[int, ...] = Field(default=(128, 256, 256), min_length=1,
                                      description="The U-Net's channels per level (multiples of norm_num_groups).")
    attention_levels: tuple[bool, ...] = Field(default=(False, True, True), description="Self-attention at each "
                                               "level (MONAI's middle block at the deepest width always has it).")
    num_res_blocks: int = Field(default=1, ge=1, description="Residual blocks per level.")
    num_head_channels: int = Field(default=256, ge=1, description="Channels per attention head (a level narrower "
                                   "than this attends with one head of its width).")
    norm_num_groups: int = Field(default=32, ge=1, description="Groups of the group norms.")
    num_train_timesteps: int = Field(default=1000, ge=2, description="Diffusion steps of training (T).")
    schedule: Literal["linear_beta", "scaled_linear_beta", "sigmoid_beta", "cosine"] = Field(
        default="linear_beta",
        description="Noise schedule, MONAI's names: 'linear_beta' (Ho et al.: 1e-4 to 0.02) or 'cosine' "
        "(Nichol & Dhariwal 2021), or MONAI's 'scaled_linear_beta', 'sigmoid_beta'.",
    )
    prediction: Literal["epsilon", "v_prediction"] = Field(
        default="epsilon", description="What the network predicts: the noise, or v (Salimans & Ho 2022).")
    lr: float = Field(default=2.5e-5, gt=0, description="Adam learning rate.")
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="Adam betas.")
    batch_size: int = Field(default=64, ge=1, description="Real pairs per step.")
    latent_dim: int = Field(default=100, ge=1, description="Not used: a sample's noise has (C + K) x H x W values.")
    sampler: Sampler = Field(
        default="ddpm",
        description="Default sampler: 'ddpm' (ancestral; at fewer steps than num_train_timesteps, DDIM's step with "
        "eta 1 on the strided chain) or 'ddim' (eta 0).")
    sampling_steps: int = Field(default=1000, ge=1, description="Default number of sampling steps.")

    @classmethod
    def presets(cls, preset: str) -> dict[str, Any]:
        """The values of a named preset."""
        return preset_values(preset)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the fields not given from the preset."""
        preset = data.get("preset", "paper")
        if preset in ("paper", "fast"):
            data = {**cls.presets(preset), **data}
        return data

    @model_validator(mode="after")
    def _fits(self) -> DdpmConfig:
        if len(self.attention_levels) != len(self.channels):
            raise ValueError(f"attention_levels needs one entry per level of channels ({len(self.channels)}), "
                             f"got {len(self.attention_levels)}")
        bad = [c for c in self.channels if c % self.norm_num_groups]
        if bad:
            raise ValueError(f"channels {list(bad)} are not multiples of norm_num_groups={self.norm_num_groups}")
        attended = [w for w, on in zip(self.channels, self.attention_levels, strict=True) if on]
        split = sorted({w for w in [*attended, self.channels[-1]] if w % min(self.num_head_channels, w)})
        if split:
            raise ValueError(f"attended levels of {split} channels (the deepest always attends, in the middle block) "
                             f"do not split into heads of num_head_channels={self.num_head_channels}")
        if self.sampling_steps > self.num_train_timesteps:
            raise ValueError(f"sampling_steps={self.sampling_steps} exceeds num_train_timesteps="
                             f"{self.num_train_timesteps}")
        return self


def spade_preset_values(preset: str) -> dict[str, Any]:
    """``ddpm``'s preset with SPADE normalisation: ``paper`` keeps MONAI's default of 128 channels in
    SPADE's shared mask convolution (``SPADEDiffusionModelUNet``), ``fast`` 64."""
    return {**preset_values(preset), "spade_intermediate_channels": 128 if preset == "paper" else 64}


class DdpmSpadeConfig(DdpmConfig, MaskSourceConfig):
    """A denoising diffusion model of the image that paints a given mask: MONAI's
    ``SPADEDiffusionModelUNet`` (SPADE normalisation, Park et al. 2019, in the decoder) with the
    masks from ``mask_source`` when sampling is given none, as the SPADE GAN."""

    preset: Preset | None = Field(
        default="paper",
        description="Named configuration filling the settings not given: 'paper' (ddpm's paper preset, MONAI's "
        "2D DDPM tutorial, with SPADE normalisation; no pixel-space SPADE DDPM is published, docs/fidelity.md) or "
        "'fast' (ddpm's fast preset with SPADE). None: all given.",
    )
    spade_intermediate_channels: int = Field(
        default=128, ge=1, description="Channels of SPADE's shared convolution on the mask (MONAI's default 128).")

    @classmethod
    def presets(cls, preset: str) -> dict[str, Any]:
        return spade_preset_values(preset)
