"""SPADE as a medgan-zoo GAN: training step (hinge, multi-scale feature matching, optional VGG and
KL), the mask source trained or filled alongside, and mask-conditioned sampling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgan_zoo.gans.base import GAN, StepContext
from medgan_zoo.gans.dcgan_family import create_dcgan

from .config import SpadeConfig
from .masks import BANK_LATENT, MaskBank, MaskGenerator, mask_gan_config
from .networks import ImageEncoder, MultiscaleDiscriminator, SpadeGenerator


class SpadeSampler(nn.Module):
    """Everything sampling needs, saved as the model's generator: SPADE, its mask source and (VAE
    mode) the image encoder."""

    def __init__(self, config: SpadeConfig, mask_network: nn.Module | None):
        super().__init__()
        self.mask_source: MaskGenerator | MaskBank | None
        self.spade = SpadeGenerator(config)
        self.mask_source = None
        if config.mask_source == "generator":
            assert mask_network is not None
            self.mask_source = MaskGenerator(mask_network)
        elif config.mask_source == "bank":
            self.mask_source = MaskBank()
        self.encoder = ImageEncoder(config) if config.vae else None


class SpadeGAN(GAN):
    config: SpadeConfig
    generator: SpadeSampler
    discriminator: MultiscaleDiscriminator | None

    conditional = True
    sampling_block = 16
    per_sample_options = ("masks",)

    def __init__(self, config: SpadeConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.mask_gan = None
        mask_network = None
        if config.mask_source == "generator":
            self.mask_gan = create_dcgan(mask_gan_config(config), with_discriminator=with_discriminator)
            mask_network = self.mask_gan.generator
        self.generator = SpadeSampler(config, mask_network)
        if with_discriminator:
            self.discriminator = MultiscaleDiscriminator(config)
        self.enable_ema()
        self._vgg = None

    # -- sampling -------------------------------------------------------------------------------

    @property
    def needs_masks_to_sample(self) -> bool:
        return self.config.mask_source == "none"

    @property
    def latent_dim(self) -> int:
        extra = {"generator": self.config.mask_latent_dim, "bank": BANK_LATENT, "none": 0}[self.config.mask_source]
        return self.config.latent_dim + extra

    def _check_masks(self, masks: Tensor) -> Tensor:
        c = self.config
        if masks.ndim == 4 and masks.shape[1] == 1:
            masks = masks[:, 0]
        if masks.ndim != 3:
            raise ValueError(f"masks must be label maps [N,H,W], got shape {tuple(masks.shape)}")
        if tuple(masks.shape[1:]) != (c.resolution, c.resolution):
            raise ValueError(f"masks are {masks.shape[1]}x{masks.shape[2]} but this model generates "
                             f"{c.resolution}x{c.resolution}: resize them with nearest-neighbour interpolation first")
        if masks.is_floating_point():
            raise ValueError("masks must hold integer labels, not floats")
        if masks.numel() and (int(masks.min()) < 0 or int(masks.max()) >= c.num_classes):
            raise ValueError(f"mask labels must lie in 0..{c.num_classes - 1} (the label map), "
                             f"got {int(masks.min())}..{int(masks.max())}")
        return masks.long()

    def generate(  # type: ignore[override]  # SPADE's one sampling option
        self, z: Tensor, generator: nn.Module | None = None, masks: Tensor | None = None
    ) -> Tensor:
        """Joint output (image channels + the one-hot masks used, in {-1, 1}) for latents ``z``;
        masks come from ``masks`` or, when None, from the saved mask source."""
        sampler = cast(SpadeSampler, generator or self.generator)
        c = self.config
        z_image, z_mask = z[:, :c.latent_dim], z[:, c.latent_dim:]
        if masks is None:
            if sampler.mask_source is None:
                raise ValueError("this SPADE model has no mask source (mask_source='none'): pass masks=...")
            masks = sampler.mask_source(z_mask)
        masks = self._check_masks(masks).to(z.device)
        one_hot = F.one_hot(masks, c.num_classes).permute(0, 3, 1, 2).to(z.dtype)
        image = sampler.spade(one_hot, z_image)
        return torch.cat([image, one_hot * 2 - 1], dim=1)

    # -- training -------------------------------------------------------------------------------

    def networks(self) -> Iterator[tuple[str, nn.Module]]:
        yield from super().networks()
        if self.mask_gan is not None and self.mask_gan.discriminator is not None:
            yield "mask_discriminator", self.mask_gan.discriminator

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        assert self.discriminator is not None, "training needs the discriminator"
        fused = {"fused": True} if next(self.discriminator.parameters()).is_cuda else {}
        g_params = list(self.generator.spade.parameters())
        if self.generator.encoder is not None:
            g_params += list(self.generator.encoder.parameters())
        self.optimizers = {
            "generator": torch.optim.Adam(g_params, lr=c.lr, betas=c.betas, **fused),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=c.betas, **fused),
        }
        if self.mask_gan is not None:
            inner = self.mask_gan.configure_optimizers()
            self.optimizers["mask_generator"] = inner["generator"]
            self.optimizers["mask_discriminator"] = inner["discriminator"]
        return self.optimizers

    def prepare_training(self, data: Tensor) -> None:
        c = self.config
        if c.mask_source == "bank":
            bank = self.generator.mask_source
            assert isinstance(bank, MaskBank)
            bank.fill(data[:, c.image_channels:].argmax(dim=1))
            if self.generator_ema is not None:
                ema_bank = cast(SpadeSampler, self.generator_ema).mask_source
                assert isinstance(ema_bank, MaskBank)
                ema_bank.fill(bank.bank)
        if c.vgg_weight > 0:
            self._vgg_features(data.device)

    def _vgg_features(self, device):
        if self._vgg is None:
            from medgan_zoo.gans.vgg import VggFeatures, find_vgg_weights

            self._vgg = VggFeatures(find_vgg_weights(self.config.vgg_weights)).to(device)
        return self._vgg

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        c = self.config
        G, D = self.generator, self.discriminator
        assert D is not None
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        real = ctx.batch()
        images, one_hot = real[:, :c.image_channels], real[:, c.image_channels:]
        segmap = (one_hot + 1) / 2
        logs: dict[str, Tensor] = {}

        with ctx.autocast():
            if G.encoder is not None:
                mu, logvar = G.encoder(images)
                z = mu + ctx.randn(*mu.shape) * torch.exp(0.5 * logvar)
            else:
                z = ctx.randn(len(real), c.latent_dim)
            fake_images = G.spade(segmap, z)
        fake = torch.cat([fake_images, one_hot], dim=1)

        D.requires_grad_(True)
        with ctx.autocast():
            d_real = D(ctx.diffaugment(real))
            d_fake = D(ctx.diffaugment(fake.detach()))
            loss_d = torch.stack([F.relu(1 - r[-1].float()).mean() + F.relu(1 + f[-1].float()).mean()
                                  for r, f in zip(d_real, d_fake, strict=True)]).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        D.requires_grad_(False)
        with ctx.autocast():
            pred_fake = D(ctx.diffaugment(fake))
            loss_g = -torch.stack([f[-1].float().mean() for f in pred_fake]).mean()
            logs["adversarial"] = loss_g.detach()
            if c.feature_matching_weight > 0:
                with torch.no_grad():
                    pred_real = D(ctx.diffaugment(real))
                fm = torch.stack([F.l1_loss(f.float(), r.float())
                                  for fs, rs in zip(pred_fake, pred_real, strict=True)
                                  for f, r in zip(fs[:-1], rs[:-1], strict=True)]).sum() / len(pred_fake)
                loss_g = loss_g + c.feature_matching_weight * fm
                logs["feature_matching"] = fm.detach()
            if c.vgg_weight > 0:
                vgg = self._vgg_features(real.device)
                perceptual = F.l1_loss(vgg(fake_images.float()), vgg(images.float()).detach())
                loss_g = loss_g + c.vgg_weight * perceptual
                logs["vgg"] = perceptual.detach()
            if G.encoder is not None:
                kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
                loss_g = loss_g + c.kl_weight * kl
                logs["kl"] = kl.detach()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        logs["loss_d"], logs["loss_g"] = loss_d.detach(), loss_g.detach()

        if self.mask_gan is not None:  # the mask source learns the training masks alongside
            self.mask_gan.optimizers = {"generator": self.optimizers["mask_generator"],
                                        "discriminator": self.optimizers["mask_discriminator"]}
            mask_ctx = StepContext(batch=lambda: ctx.batch()[:, c.image_channels:], rng=ctx.rng, device=ctx.device,
                                   autocast=ctx.autocast, diffaugment=lambda x: x, step=ctx.step)
            for key, value in self.mask_gan.train_step(mask_ctx).items():
                logs[f"mask_{key}"] = value
        return logs


def create_spade(config: SpadeConfig, with_discriminator: bool = True) -> SpadeGAN:
    return SpadeGAN(config, with_discriminator)
