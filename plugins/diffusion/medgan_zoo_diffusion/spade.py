"""``ddpm-spade``: a denoising diffusion model of the image that paints a given mask, on MONAI's
``SPADEDiffusionModelUNet``, with the SPADE GAN's mask sources (a mask DCGAN trained alongside, or
the training masks) for sampling without masks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
import torch.nn.functional as F
from monai.networks.nets import SPADEDiffusionModelUNet
from torch import Tensor, nn

from medgan_zoo.gans.base import StepContext
from medgan_zoo.gans.mask_sources import MaskBank, MaskConditioned, MaskGenerator

from .config import DdpmSpadeConfig
from .ddpm import head_channels
from .sampling import adam, denoise, denoising_loss, scheduler


class SpadeDenoiser(nn.Module):
    """Everything sampling needs, saved as the model's generator: the denoiser and the mask source."""

    def __init__(self, config: DdpmSpadeConfig, mask_source: MaskGenerator | MaskBank | None):
        super().__init__()
        self.unet = SPADEDiffusionModelUNet(
            spatial_dims=2, in_channels=config.image_channels, out_channels=config.image_channels,
            label_nc=config.num_classes, channels=config.channels, attention_levels=config.attention_levels,
            num_res_blocks=config.num_res_blocks, num_head_channels=head_channels(config),
            norm_num_groups=config.norm_num_groups, spade_intermediate_channels=config.spade_intermediate_channels)
        self.mask_source = mask_source

    def forward(self, x: Tensor, timesteps: Tensor, seg: Tensor) -> Tensor:
        return self.unet(x, timesteps=timesteps, seg=seg)


class DdpmSpadeModel(MaskConditioned):
    """DDPM of the image channels in [-1, 1] conditioned on the one-hot mask through SPADE
    normalisation. A sample's latent holds its initial noise x_T (C x H x W values) and then what
    its mask source reads; its DDPM step noise comes from its own seed, so sample i depends only on
    (seed, i) and, when given, its mask."""

    config: DdpmSpadeConfig
    generator: SpadeDenoiser
    takes_sample_seeds = True
    painter = "the diffusion model's image"

    def __init__(self, config: DdpmSpadeConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.generator = SpadeDenoiser(config, self.build_mask_source(with_discriminator))
        self.enable_ema()
        self.noise_schedule = scheduler(config)

    @property
    def image_noise_dim(self) -> int:
        return self.config.image_channels * self.config.resolution**2

    @property
    def latent_dim(self) -> int:
        """The image's initial noise x_T, flattened, then the mask source's latent values."""
        return self.image_noise_dim + self.mask_latent_dim

    def _one_hot(self, masks: Tensor, dtype: torch.dtype) -> Tensor:
        return F.one_hot(masks, self.config.num_classes).permute(0, 3, 1, 2).to(dtype)

    @torch.no_grad()
    def generate(  # type: ignore[override]  # the diffusion model's and SPADE's sampling options
        self, z: Tensor, generator: nn.Module | None = None, seeds: Tensor | None = None,
        sampler: str | None = None, sampling_steps: int | None = None, masks: Tensor | None = None,
    ) -> Tensor:
        """Joint output (the denoised image channels + the one-hot masks painted, in {-1, 1}) for
        latents ``z``; masks come from ``masks`` or, when None, from the saved mask source."""
        net = cast(SpadeDenoiser, generator or self.generator)
        c = self.config
        z_image, z_mask = z[:, :self.image_noise_dim], z[:, self.image_noise_dim:]
        one_hot = self._one_hot(self.masks_for(net.mask_source, z_mask, masks), z.dtype)
        x = z_image.reshape(len(z), c.image_channels, c.resolution, c.resolution)
        image = denoise(c, lambda x_t, t: net(x_t, t, one_hot), x, seeds, sampler, sampling_steps)
        return torch.cat([image, one_hot * 2 - 1], dim=1)

    def networks(self) -> Iterator[tuple[str, nn.Module]]:
        yield from super().networks()
        yield from self.mask_networks()

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cuda = next(self.generator.parameters()).is_cuda
        self.optimizers = {"generator": adam(self.generator.unet.parameters(), self.config, cuda),
                           **self.mask_optimizers()}
        return self.optimizers

    def prepare_training(self, data: Tensor) -> None:
        ema = cast(SpadeDenoiser | None, self.generator_ema)
        self.fill_bank(data, [self.generator.mask_source, ema.mask_source if ema is not None else None])

    def loss(self, x0: Tensor, segmap: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """The denoising loss of the images ``x0`` given their one-hot masks ``segmap`` in {0, 1}."""
        return denoising_loss(self.config, self.noise_schedule, lambda x, t: self.generator(x, t, segmap),
                              x0, noise, timesteps)

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        c = self.config
        real = ctx.batch()
        x0, segmap = real[:, :c.image_channels], (real[:, c.image_channels:] + 1) / 2
        noise = ctx.randn(*x0.shape)
        timesteps = ctx.randint(0, c.num_train_timesteps, len(x0))
        with ctx.autocast():
            loss = self.loss(x0, segmap, noise.to(x0.dtype), timesteps.long())
        opt = self.optimizers["generator"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach(), **self.train_mask_source(ctx)}


def create_ddpm_spade(config: DdpmSpadeConfig, with_discriminator: bool = True) -> DdpmSpadeModel:
    return DdpmSpadeModel(config, with_discriminator)
