"""``ddpm``: a denoising diffusion model of the joint image + one-hot mask on MONAI's
``DiffusionModelUNet`` and schedulers, trained and sampled through medgan-zoo's GAN contract
(the denoiser is the "generator"; there is no discriminator)."""

from __future__ import annotations

import torch
from monai.networks.nets import DiffusionModelUNet
from torch import Tensor, nn

from medgan_zoo.gans.base import GAN, StepContext

from .config import DdpmConfig
from .sampling import adam, denoise, denoising_loss, scheduler


def denoiser(config: DdpmConfig, in_channels: int, out_channels: int) -> DiffusionModelUNet:
    return DiffusionModelUNet(
        spatial_dims=2, in_channels=in_channels, out_channels=out_channels, channels=config.channels,
        attention_levels=config.attention_levels, num_res_blocks=config.num_res_blocks,
        num_head_channels=head_channels(config), norm_num_groups=config.norm_num_groups)


def head_channels(config: DdpmConfig) -> list[int]:
    """Channels per attention head at each level: ``num_head_channels``, or one head of the
    level's width where the level is narrower."""
    return [min(config.num_head_channels, width) for width in config.channels]


class DdpmModel(GAN):
    """DDPM (Ho et al. 2020) of image channels + one-hot mask channels in [-1, 1]; masks are the
    argmax of the denoised mask channels. A sample's initial noise is its latent z (drawn from its
    own seed by the sampler) and its DDPM step noise comes from its own seed too, so sample i
    depends only on (seed, i)."""

    config: DdpmConfig
    generator: DiffusionModelUNet
    takes_sample_seeds = True

    def __init__(self, config: DdpmConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        channels = self.output_channels
        self.generator = denoiser(config, channels, channels)
        self.enable_ema()
        self.noise_schedule = scheduler(config)

    @property
    def latent_dim(self) -> int:
        """The initial noise x_T of one sample, flattened: (C + K) x H x W."""
        return self.output_channels * self.config.resolution**2

    @torch.no_grad()
    def generate(  # type: ignore[override]  # the diffusion model's sampling options
        self, z: Tensor, generator: nn.Module | None = None, seeds: Tensor | None = None,
        sampler: str | None = None, sampling_steps: int | None = None,
    ) -> Tensor:
        """Denoise x_T = ``z`` (reshaped to [N, C+K, H, W]) with ``sampler`` ('ddpm' or 'ddim',
        default the config's) over ``sampling_steps`` steps (default the config's)."""
        net = generator or self.generator
        x = z.reshape(len(z), self.output_channels, self.config.resolution, self.config.resolution)
        return denoise(self.config, lambda x_t, t: net(x_t, timesteps=t), x, seeds, sampler, sampling_steps)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cuda = next(self.generator.parameters()).is_cuda
        self.optimizers = {"generator": adam(self.generator.parameters(), self.config, cuda)}
        return self.optimizers

    def loss(self, x0: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """The denoising loss of the joint image + mask ``x0``."""
        return denoising_loss(self.config, self.noise_schedule, lambda x, t: self.generator(x, timesteps=t),
                              x0, noise, timesteps)

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        x0 = ctx.batch()
        noise = ctx.randn(*x0.shape)
        timesteps = ctx.randint(0, self.config.num_train_timesteps, len(x0))
        with ctx.autocast():
            loss = self.loss(x0, noise.to(x0.dtype), timesteps.long())
        opt = self.optimizers["generator"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach()}


def create_ddpm(config: DdpmConfig, with_discriminator: bool = True) -> DdpmModel:
    return DdpmModel(config, with_discriminator)
