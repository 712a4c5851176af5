"""SPADE as a medgan-zoo GAN: training step (hinge, multi-scale feature matching, optional VGG and
KL), the mask source trained or filled alongside, and mask-conditioned sampling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgan_zoo.gans.backbone import converge_spectral_norms, initialise
from medgan_zoo.gans.base import StepContext
from medgan_zoo.gans.mask_sources import MaskBank, MaskConditioned, MaskGenerator

from .config import SpadeConfig
from .networks import ImageEncoder, MultiscaleDiscriminator, Spade, SpadeGenerator

#: SPADE's VGGLoss weights of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 (NVlabs/SPADE models/networks/loss.py).
VGG_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


class SpadeSampler(nn.Module):
    """Everything sampling needs, saved as the model's generator: SPADE, its mask source and (VAE
    mode) the image encoder."""

    def __init__(self, config: SpadeConfig, mask_source: MaskGenerator | MaskBank | None):
        super().__init__()
        self.spade = SpadeGenerator(config)
        self.mask_source = mask_source
        self.encoder = ImageEncoder(config) if config.vae else None


class SpadeGAN(MaskConditioned):
    """SPADE (Park et al. 2019) with its mask source. Under torchrun its batch norms take the global
    batch's statistics (the engine's ``sync_batchnorm``, as NVlabs/SPADE's synchronised batch norm)
    and the mask DCGAN trains on the same ranks with the same context."""

    config: SpadeConfig
    generator: SpadeSampler
    discriminator: MultiscaleDiscriminator | None

    sampling_block = 16
    painter = "SPADE's image"

    def __init__(self, config: SpadeConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.generator = SpadeSampler(config, self.build_mask_source(with_discriminator))
        if with_discriminator:
            self.discriminator = MultiscaleDiscriminator(config)
        if config.init != "pytorch":  # NVlabs/SPADE's init_weights on G, D and E (not the mask DCGAN)
            for network in (self.generator.spade, self.generator.encoder, self.discriminator):
                if network is not None:
                    initialise(network, config.init, config.init_gain)
                    _as_two_convolutions(network, config.init, config.init_gain)
                    converge_spectral_norms(network)
        self.enable_ema()
        self._vgg = None
        # NVlabs/SPADE's GANLoss(gan_mode='hinge') per discriminator scale is the registered 'hinge'
        from medgan_zoo import create_loss

        self.adversarial = create_loss("hinge")

    # -- sampling -------------------------------------------------------------------------------

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim + self.mask_latent_dim

    def generate(  # type: ignore[override]  # SPADE's one sampling option
        self, z: Tensor, generator: nn.Module | None = None, masks: Tensor | None = None
    ) -> Tensor:
        """Joint output (image channels + the one-hot masks used, in {-1, 1}) for latents ``z``;
        masks come from ``masks`` or, when None, from the saved mask source."""
        sampler = cast(SpadeSampler, generator or self.generator)
        c = self.config
        z_image, z_mask = z[:, :c.latent_dim], z[:, c.latent_dim:]
        masks = self.masks_for(sampler.mask_source, z_mask, masks)
        one_hot = F.one_hot(masks, c.num_classes).permute(0, 3, 1, 2).to(z.dtype)
        image = sampler.spade(one_hot, z_image)
        return torch.cat([image, one_hot * 2 - 1], dim=1)

    # -- training -------------------------------------------------------------------------------

    def networks(self) -> Iterator[tuple[str, nn.Module]]:
        yield from super().networks()
        yield from self.mask_networks()

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
        self.optimizers.update(self.mask_optimizers())
        return self.optimizers

    def prepare_training(self, data: Tensor) -> None:
        ema = cast(SpadeSampler | None, self.generator_ema)
        self.fill_bank(data, [self.generator.mask_source, ema.mask_source if ema is not None else None])
        if self.config.vgg_weight > 0:
            self._vgg_features(data.device)

    def _vgg_features(self, device):
        if self._vgg is None:
            from medgan_zoo.gans.vgg import RELU_X_1, VggFeatures, find_vgg_weights

            weights = find_vgg_weights(self.config.vgg_weights)
            if self.config.vgg_layers == "spade":
                self._vgg = VggFeatures(weights, depth=RELU_X_1[-1], imagenet_input=False).to(device)
            else:
                self._vgg = VggFeatures(weights).to(device)
        return self._vgg

    def vgg_loss(self, fake: Tensor, real: Tensor) -> Tensor:
        """SPADE's VGGLoss (``vgg_layers='spade'``): sum over relu1_1 ... relu5_1 of 1/32, 1/16, 1/8,
        1/4, 1 times the L1 distance, on [-1, 1] images; or the L1 distance at relu3_1."""
        vgg = self._vgg_features(real.device)
        if self.config.vgg_layers == "spade":
            pairs = zip(VGG_WEIGHTS, vgg.pyramid(fake), vgg.pyramid(real), strict=True)
            return torch.stack([w * F.l1_loss(f, r.detach()) for w, f, r in pairs]).sum()
        return F.l1_loss(vgg(fake), vgg(real).detach())

    def _fake(self, ctx: StepContext, segmap: Tensor, images: Tensor, kl: bool = False) -> tuple[Tensor, Tensor | None]:
        """Generated images for the masks, from a fresh z (or, in VAE mode, a fresh sample of the
        encoder's posterior for the real images); with ``kl``, also the KL term (unweighted)."""
        c, G = self.config, self.generator
        if G.encoder is None:
            return G.spade(segmap, ctx.randn(len(segmap), c.latent_dim)), None
        mu, logvar = G.encoder(images)
        z = mu + ctx.randn(*mu.shape) * torch.exp(0.5 * logvar)
        if not kl:
            return G.spade(segmap, z), None
        mu, logvar = mu.float(), logvar.float()
        per_sample = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
        # 'sum': NVlabs/SPADE's KLDLoss over the batch; x world, so that ranks' averaged gradients are
        # one process's sum over the global batch
        term = per_sample.sum() * ctx.world if c.kl_reduction == "sum" else per_sample.mean()
        return G.spade(segmap, z), term

    def _discriminate(self, ctx: StepContext, fake: Tensor, real: Tensor) -> tuple[list[list[Tensor]], ...]:
        """NVlabs/SPADE's ``discriminate``: fake and real pass the discriminator as one batch (one
        spectral-norm power iteration, shared statistics), then each output splits in two."""
        out = self.discriminator(torch.cat([ctx.diffaugment(fake), ctx.diffaugment(real)]))  # type: ignore[misc]
        n = len(fake)
        return [[t[:n] for t in scale] for scale in out], [[t[n:] for t in scale] for scale in out]

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        """NVlabs/SPADE's iteration on one batch (train.py): the generator step, then the
        discriminator step on fakes generated afresh by the updated generator, without gradients."""
        c = self.config
        D = self.discriminator
        assert D is not None
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        real = ctx.batch()
        images, one_hot = real[:, :c.image_channels], real[:, c.image_channels:]
        segmap = (one_hot + 1) / 2
        d_mask = segmap if c.d_mask == "binary" else one_hot  # the discriminator's view of the mask
        real_input = torch.cat([images, d_mask], dim=1)
        logs: dict[str, Tensor] = {}

        D.requires_grad_(False)  # the generator step needs no discriminator gradients
        with ctx.autocast():
            fake_images, kl = self._fake(ctx, segmap, images, kl=True)
            pred_fake, pred_real = self._discriminate(ctx, torch.cat([fake_images, d_mask], dim=1), real_input)
            loss_g = torch.stack([self.adversarial.generator_loss(f[-1]) for f in pred_fake]).mean()
            logs["adversarial"] = loss_g.detach()
            if c.feature_matching_weight > 0:
                fm = torch.stack([F.l1_loss(f.float(), r.detach().float())
                                  for fs, rs in zip(pred_fake, pred_real, strict=True)
                                  for f, r in zip(fs[:-1], rs[:-1], strict=True)]).sum() / len(pred_fake)
                loss_g = loss_g + c.feature_matching_weight * fm
                logs["feature_matching"] = fm.detach()
            if c.vgg_weight > 0:
                perceptual = self.vgg_loss(fake_images.float(), images.float())
                loss_g = loss_g + c.vgg_weight * perceptual
                logs["vgg"] = perceptual.detach()
            if kl is not None:
                loss_g = loss_g + c.kl_weight * kl
                logs["kl"] = kl.detach()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        D.requires_grad_(True)
        with torch.no_grad(), ctx.autocast():
            fake_images, _ = self._fake(ctx, segmap, images)
        with ctx.autocast():
            pred_fake, pred_real = self._discriminate(ctx, torch.cat([fake_images, d_mask], dim=1), real_input)
            loss_d = torch.stack([self.adversarial.discriminator_loss(r[-1], f[-1])
                                  for r, f in zip(pred_real, pred_fake, strict=True)]).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        logs["loss_d"], logs["loss_g"] = loss_d.detach(), loss_g.detach()

        logs.update(self.train_mask_source(ctx))  # the mask source learns the training masks alongside
        return logs


@torch.no_grad()
def _as_two_convolutions(network: nn.Module, scheme: str, gain: float) -> None:
    """gamma and beta come from one convolution here, from two (``mlp_gamma``, ``mlp_beta``) in
    NVlabs's SPADE: Glorot's fan counts each half's outputs, so each half is initialised alone."""
    if scheme != "xavier":
        return
    for module in network.modules():
        if isinstance(module, Spade):
            for half in module.gamma_beta.weight.chunk(2):
                nn.init.xavier_normal_(half, gain=gain)


def create_spade(config: SpadeConfig, with_discriminator: bool = True) -> SpadeGAN:
    return SpadeGAN(config, with_discriminator)
