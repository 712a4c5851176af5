"""DCGAN, LSGAN, WGAN, WGAN-GP and HingeGAN: one backbone, the loss swapped (paper section 3.2)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..losses.adversarial import HingeLoss, LeastSquaresLoss, MinimaxLoss, WassersteinLoss
from ..losses.base import AdversarialLoss
from ..losses.configs import GradientPenaltyConfig, LeastSquaresConfig, MinimaxConfig
from ..losses.regularizers import GradientPenalty
from .backbone import Discriminator, Generator
from .base import GAN, StepContext
from .dcgan_configs import (
    DcganConfig,
    DcganFamilyConfig,
    HingeganConfig,
    LsganConfig,
    WganConfig,
    WganGpConfig,
)


class DcganFamilyGAN(GAN):
    """The shared training step: ``n_critic`` discriminator updates, then one generator update."""

    config: DcganFamilyConfig

    def __init__(self, config: DcganFamilyConfig, loss: AdversarialLoss,
                 penalty: GradientPenalty | None = None, clip_value: float | None = None,
                 with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.loss, self.penalty, self.clip_value = loss, penalty, clip_value
        self.class_conditional = config.class_conditional
        if self.class_conditional:  # the class enters G beside z and D by projection
            from .conditioning import ClassEmbeddingGenerator, ProjectionDiscriminator

            k, e = len(config.class_names), config.class_embedding
            wider = config.model_copy(update={"latent_dim": config.latent_dim + e})
            self.generator = ClassEmbeddingGenerator(Generator(wider, self.output_channels), k, e)
            if with_discriminator:
                backbone = Discriminator(config, self.output_channels)
                self.discriminator = ProjectionDiscriminator(backbone, k, backbone.head.in_channels,
                                                             config.d_spectral_norm)
            self.per_sample_options = ("classes",)
        else:
            self.generator = Generator(config, self.output_channels)
            if with_discriminator:
                self.discriminator = Discriminator(config, self.output_channels)
        self.enable_ema()
        self._vgg = None

    def generate(self, z: Tensor, generator: nn.Module | None = None, **options: Any) -> Tensor:
        """Joint output for latents ``z``; a class-conditional model also takes ``classes`` (int64 [N])."""
        if not self.class_conditional:
            return super().generate(z, generator, **options)
        classes = options.pop("classes", None)
        if options:
            raise TypeError(f"{type(self).__name__} takes only 'classes' as a sampling option, got {sorted(options)}")
        if classes is None:
            raise ValueError("this model is class-conditional: pass classes=... (the sampler draws them in the "
                             "training proportions when none are asked for)")
        return (generator or self.generator)(z, classes.to(z.device))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        fused = {"fused": True} if next(self.generator.parameters()).is_cuda else {}

        def make(params, lr):
            if c.optimizer == "rmsprop":
                return torch.optim.RMSprop(params, lr=lr)
            return torch.optim.Adam(params, lr=lr, betas=c.betas, **fused)

        assert self.discriminator is not None, "training needs the discriminator"
        self.optimizers = {"generator": make(self.generator.parameters(), c.lr),
                           "discriminator": make(self.discriminator.parameters(), c.lr_d or c.lr)}
        return self.optimizers

    def _vgg_features(self):
        if self._vgg is None:
            from .vgg import VggFeatures, find_vgg_weights

            device = next(self.generator.parameters()).device
            self._vgg = VggFeatures(find_vgg_weights(self.config.vgg_weights)).to(device)
        return self._vgg

    def prepare_training(self, data: Tensor | None = None) -> None:
        """Fail before the first step when a knob needs something missing (VGG weights)."""
        if self.config.vgg_weight > 0:
            self._vgg_features()

    def _classes(self, ctx: StepContext) -> tuple[Tensor, ...]:
        """The real batch's classes as an extra network argument; () unconditioned. The critic step's
        fakes take the same classes, so a gradient penalty interpolates within a class and the
        critic compares like with like (docs/conditional.md)."""
        if not self.class_conditional:
            return ()
        real = ctx.batch_classes()
        if real is None:
            raise ConfigError("this GAN is class-conditional but the training batches carry no classes")
        return (real,)

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        c = self.config
        G, D = self.generator, self.discriminator
        assert D is not None
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        logs: dict[str, Tensor] = {}

        D.requires_grad_(True)
        for i in range(c.n_critic):
            real = ctx.batch()
            n = len(real)  # this rank's share of the batch under torchrun
            last = i == c.n_critic - 1
            y = self._classes(ctx)  # the fakes take the real batch's classes
            # The last critic step's fakes keep their graph and serve the generator step too
            # (one generator forward fewer per step; z is independent of the critic update).
            with torch.set_grad_enabled(last), ctx.autocast():
                fake = G(ctx.randn(n, c.latent_dim), *y)
            with ctx.autocast():
                seen_real, seen_fake = ctx.diffaugment(real), ctx.diffaugment(fake.detach())
                loss_d = self.loss.discriminator_loss(D(seen_real, *y), D(seen_fake, *y))
                if self.penalty is not None:  # between the inputs the critic is trained on (augmented)
                    critic = (lambda x, y=y: D(x, *y)) if y else D  # real and fake share classes
                    gp = self.penalty(critic, seen_real, seen_fake.to(seen_real.dtype), alpha=ctx.rand(n))
                    loss_d = loss_d + gp
                    logs["gp"] = gp.detach()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if self.clip_value is not None:
                with torch.no_grad():
                    torch._foreach_clamp_min_(list(D.parameters()), -self.clip_value)
                    torch._foreach_clamp_max_(list(D.parameters()), self.clip_value)
        logs["loss_d"] = loss_d.detach()

        D.requires_grad_(False)  # the generator step needs no discriminator gradients
        with ctx.autocast():
            logits, features = D(ctx.diffaugment(fake), *y, features=True)
            real_logits = real_features = None
            if c.feature_matching_weight > 0 or self.loss.generator_needs_real:
                with torch.no_grad():
                    real_logits, real_features = D(ctx.diffaugment(real), *y, features=True)
            loss_g = self.loss.generator_loss(logits, real=real_logits)
            if c.feature_matching_weight > 0:
                assert real_features is not None
                fm = (ctx.batch_average(real_features.float()) - ctx.batch_average(features.float())).pow(2).mean()
                loss_g = loss_g + c.feature_matching_weight * fm
                logs["feature_matching"] = fm.detach()
            if c.vgg_weight > 0:
                # VggFeatures.distance with the batch means over the global batch (exact under torchrun)
                features_of = self._vgg_features()
                with torch.no_grad():
                    target = ctx.batch_average(features_of(real[:, :c.image_channels]))
                vgg = (ctx.batch_average(features_of(fake[:, :c.image_channels])) - target).pow(2).mean()
                loss_g = loss_g + c.vgg_weight * vgg
                logs["vgg"] = vgg.detach()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        logs["loss_g"] = loss_g.detach()
        return logs


def _real_label(config: DcganConfig | LsganConfig) -> float:
    return 1.0 - config.label_smoothing


def registered_loss(config: DcganFamilyConfig, own: AdversarialLoss) -> AdversarialLoss:
    """The loss named by ``config.loss`` (a registered adversarial loss) or, without one, ``own``."""
    if config.loss is None:
        if config.loss_config:
            raise ConfigError("loss_config is set but loss is not: name the registered loss it configures")
        return own
    from ..factory import create_loss
    from ..registry import get_registry

    spec = get_registry().losses[config.loss]
    if spec.role != "adversarial":
        raise ConfigError(f"loss {config.loss!r} is a {spec.role}, not an adversarial loss (field 'loss')")
    return create_loss(config.loss, **config.loss_config)


def create_with_loss(config: DcganFamilyConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    """The DCGAN family trained with the registered loss ``config.loss`` names: the factory of a GAN
    that changes only the loss (docs/plugins.md)."""
    if config.loss is None:
        raise ConfigError("this GAN trains with a registered loss: set the field 'loss' (medgan-zoo plugins "
                          "lists the losses)")
    return DcganFamilyGAN(config, registered_loss(config, MinimaxLoss()), with_discriminator=with_discriminator)


def create_dcgan(config: DcganConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    loss = MinimaxLoss(MinimaxConfig(real_label=_real_label(config)))
    return DcganFamilyGAN(config, registered_loss(config, loss), with_discriminator=with_discriminator)


def create_lsgan(config: LsganConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    loss = LeastSquaresLoss(LeastSquaresConfig(real_label=_real_label(config)))
    return DcganFamilyGAN(config, registered_loss(config, loss), with_discriminator=with_discriminator)


def create_wgan(config: WganConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    return DcganFamilyGAN(config, registered_loss(config, WassersteinLoss()),
                          clip_value=config.clip_value or None,  # 0: no clipping
                          with_discriminator=with_discriminator)


def create_wgan_gp(config: WganGpConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    penalty = GradientPenalty(GradientPenaltyConfig(weight=config.gp_weight))
    return DcganFamilyGAN(config, registered_loss(config, WassersteinLoss()), penalty=penalty,
                          with_discriminator=with_discriminator)


def create_hingegan(config: HingeganConfig, with_discriminator: bool = True) -> DcganFamilyGAN:
    return DcganFamilyGAN(config, registered_loss(config, HingeLoss()), with_discriminator=with_discriminator)
