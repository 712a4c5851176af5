"""The adversarial objectives of the paper's GAN family (section 2.1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import AdversarialLoss
from .configs import HingeConfig, LeastSquaresConfig, MinimaxConfig, WassersteinConfig


class MinimaxLoss(AdversarialLoss):
    """Goodfellow et al. (2014): binary cross-entropy on logits (DCGAN)."""

    def __init__(self, config: MinimaxConfig | None = None):
        self.config = config or MinimaxConfig()

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = real.float(), fake.float()
        target = torch.full_like(real, self.config.real_label)
        real_term = F.binary_cross_entropy_with_logits(real, target)
        return real_term + F.softplus(fake).mean()  # -log(1 - sigmoid(f)) == softplus(f)

    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        fake = fake.float()
        if self.config.saturating:
            return -F.softplus(fake).mean()  # log(1 - sigmoid(f)), minimised
        return F.softplus(-fake).mean()  # -log(sigmoid(f))


class LeastSquaresLoss(AdversarialLoss):
    """Mao et al. (2017), LSGAN: squared distance to the targets a, b, c."""

    def __init__(self, config: LeastSquaresConfig | None = None):
        self.config = config or LeastSquaresConfig()

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        c = self.config
        return 0.5 * ((real.float() - c.real_label) ** 2).mean() + 0.5 * (
            (fake.float() - c.fake_label) ** 2
        ).mean()

    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        return 0.5 * ((fake.float() - self.config.generator_target) ** 2).mean()


class WassersteinLoss(AdversarialLoss):
    """Arjovsky et al. (2017): the critic's mean difference (pair with clipping or a penalty)."""

    def __init__(self, config: WassersteinConfig | None = None):
        self.config = config or WassersteinConfig()

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = real.float(), fake.float()
        loss = fake.mean() - real.mean()
        if self.config.drift:
            loss = loss + self.config.drift * (real**2).mean()
        return loss

    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        return -fake.float().mean()


class HingeLoss(AdversarialLoss):
    """Lim & Ye (2017), Miyato et al. (2018): hinge for D, the critic's mean for G."""

    def __init__(self, config: HingeConfig | None = None):
        self.config = config or HingeConfig()

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        m = self.config.margin
        return F.relu(m - real.float()).mean() + F.relu(m + fake.float()).mean()

    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        return -fake.float().mean()
