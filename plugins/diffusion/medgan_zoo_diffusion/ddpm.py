"""``ddpm``: a denoising diffusion model of the joint image + one-hot mask on MONAI's
``DiffusionModelUNet`` and schedulers, trained and sampled through medgan-zoo's GAN contract
(the denoiser is the "generator"; there is no discriminator)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch import Tensor, nn

from medgan_zoo.gans.base import GAN, StepContext
from medgan_zoo.sampling import sample_seed

from .config import DdpmConfig

#: Index mixed with a sample's own seed for its DDPM step noise (its initial noise z comes from the
#: seed itself, StyleGAN2's layer noise from index 1).
STEP_NOISE_STREAM = 2


def denoiser(config: DdpmConfig, in_channels: int, out_channels: int) -> DiffusionModelUNet:
    return DiffusionModelUNet(
        spatial_dims=2, in_channels=in_channels, out_channels=out_channels, channels=config.channels,
        attention_levels=config.attention_levels, num_res_blocks=config.num_res_blocks,
        num_head_channels=config.num_head_channels, norm_num_groups=config.norm_num_groups)


def scheduler(config: DdpmConfig, kind: str = "ddpm") -> DDPMScheduler | DDIMScheduler:
    """MONAI's scheduler for the config's schedule and prediction (clipping x0 to [-1, 1])."""
    cls = DDIMScheduler if kind == "ddim" else DDPMScheduler
    return cls(num_train_timesteps=config.num_train_timesteps, schedule=config.schedule,
               prediction_type=config.prediction, clip_sample=True)


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

    # -- sampling -------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(  # type: ignore[override]  # the diffusion model's sampling options
        self, z: Tensor, generator: nn.Module | None = None, seeds: Tensor | None = None,
        sampler: str | None = None, sampling_steps: int | None = None,
    ) -> Tensor:
        """Denoise x_T = ``z`` (reshaped to [N, C+K, H, W]) with ``sampler`` ('ddpm' or 'ddim',
        default the config's) over ``sampling_steps`` steps (default the config's)."""
        c = self.config
        kind = sampler or c.sampler
        if kind not in ("ddpm", "ddim"):
            raise ValueError(f"sampler must be 'ddpm' or 'ddim', got {kind!r}")
        steps = c.sampling_steps if sampling_steps is None else sampling_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= c.num_train_timesteps:
            raise ValueError(f"sampling_steps must be an integer from 1 to {c.num_train_timesteps}, got {steps!r}")
        net = generator or self.generator
        x = z.reshape(len(z), self.output_channels, c.resolution, c.resolution)
        full = kind == "ddpm" and steps == c.num_train_timesteps
        # DDPM over every timestep is MONAI's DDPMScheduler; strided DDPM is DDIM's step with eta 1
        # (the ancestral sampler of the strided chain): DDPMScheduler.step always goes from t to t - 1
        schedule = scheduler(c, "ddpm" if full else "ddim")
        schedule.set_timesteps(steps, device=x.device)
        if not full:  # from T - 1 down by MONAI's DDIM stride (its step goes to t - T // steps; set_timesteps'
            stride = c.num_train_timesteps // steps  # linspace does not), the last step to the predicted x0
            schedule.timesteps = torch.arange(c.num_train_timesteps - 1, -1, -stride, device=x.device)[:steps]
        noise = None
        if kind == "ddpm":
            if seeds is None:
                raise ValueError("DDPM sampling draws each sample's step noise from its seed: pass seeds")
            noise = [torch.Generator(device=x.device).manual_seed(sample_seed(int(s), STEP_NOISE_STREAM))
                     for s in seeds.tolist()]
        extra = {} if full else {"eta": 0.0 if noise is None else 1.0}
        timesteps = schedule.timesteps.tolist()  # Python ints: no host sync in MONAI's indexing
        for k, t in enumerate(timesteps):
            out = net(x, timesteps=torch.full((len(x),), t, device=x.device, dtype=torch.long)).to(x.dtype)
            last = 1 if k == len(timesteps) - 1 and not full else 0  # the predicted x0, not x at t - stride
            if noise is None:
                x = schedule.step(out, t, x, **extra)[last]  # DDIM, eta 0: no noise
            else:  # MONAI draws a whole batch's noise from one generator: one call per sample instead
                x = torch.cat([schedule.step(out[i:i + 1], t, x[i:i + 1], generator=g, **extra)[last]
                               for i, g in enumerate(noise)])
        return x.clamp(-1, 1)

    # -- training -------------------------------------------------------------------------------

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        fused = {"fused": True} if next(self.generator.parameters()).is_cuda else {}
        self.optimizers = {"generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr, betas=c.betas,
                                                         **fused)}
        return self.optimizers

    def loss(self, x0: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """The denoising loss: MSE between the network's prediction for x_t and its target (the
        noise, or v), as MONAI's tutorials compute it."""
        schedule = self.noise_schedule
        noisy = schedule.add_noise(original_samples=x0, noise=noise, timesteps=timesteps)
        prediction = self.generator(noisy, timesteps=timesteps)
        target = noise if self.config.prediction == "epsilon" else schedule.get_velocity(x0, noise, timesteps)
        return F.mse_loss(prediction.float(), target.float())

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
