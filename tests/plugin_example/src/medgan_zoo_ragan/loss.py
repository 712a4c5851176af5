"""The loss itself; torch is imported here, only when the loss is created."""

import torch
import torch.nn.functional as F

from medgan_zoo.losses import AdversarialLoss


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class RelativisticAverageLoss(AdversarialLoss):
    """Real samples should look more real than the average fake, and fakes less than the real."""

    generator_needs_real = True  # training steps pass real= (the discriminator's outputs on reals)

    def __init__(self, config):
        self.config = config

    def discriminator_loss(self, real, fake):
        real, fake = real.float(), fake.float()
        return (_bce(real - fake.mean(), self.config.real_label)
                + _bce(fake - real.mean(), 0.0))

    def generator_loss(self, fake, real=None):
        if real is None:
            raise ValueError("ragan needs the discriminator's outputs on real samples (real=...)")
        real, fake = real.float(), fake.float()
        return _bce(fake - real.mean(), 1.0) + _bce(real - fake.mean(), 0.0)
