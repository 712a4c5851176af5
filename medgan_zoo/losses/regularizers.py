"""Penalties on the discriminator's input gradients."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .base import Regularizer
from .configs import GradientPenaltyConfig, R1Config


def _input_gradients(discriminator: Callable[[Tensor], Tensor], inputs: Tensor) -> Tensor:
    """d sum(D(x)) / dx per sample, kept in the graph so the penalty can be back-propagated."""
    inputs = inputs.requires_grad_(True)
    outputs = discriminator(inputs)
    (grad,) = torch.autograd.grad(outputs.float().sum(), inputs, create_graph=True)
    return grad.flatten(1).float()


class GradientPenalty(Regularizer):
    """Gulrajani et al. (2017), WGAN-GP: weight * E[(|grad D(x_hat)| - target)^2].

    ``x_hat`` is drawn uniformly on the segments between real and generated samples; pass a
    ``generator`` for reproducible draws, or the weights ``alpha`` [N] themselves (the training
    engine's draws, the same for the global batch on any number of ranks).
    """

    def __init__(self, config: GradientPenaltyConfig | None = None):
        self.config = config or GradientPenaltyConfig()

    def __call__(
        self,
        discriminator: Callable[[Tensor], Tensor],
        real: Tensor,
        fake: Tensor | None = None,
        generator: torch.Generator | None = None,
        alpha: Tensor | None = None,
    ) -> Tensor:
        if fake is None:
            raise ValueError("the gradient penalty needs generated samples (fake=...)")
        if fake.shape != real.shape:
            raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ in shape")
        shape = (real.shape[0],) + (1,) * (real.ndim - 1)
        if alpha is None:
            alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
        else:
            alpha = alpha.to(real.dtype).reshape(shape)
        x_hat = torch.lerp(fake.detach(), real.detach(), alpha)  # alpha * real + (1 - alpha) * fake
        norms = _input_gradients(discriminator, x_hat).norm(2, dim=1)
        return self.config.weight * ((norms - self.config.target) ** 2).mean()


class R1Penalty(Regularizer):
    """Mescheder et al. (2018): gamma / 2 * E[|grad D(x)|^2] on real samples (StyleGAN2's R1)."""

    def __init__(self, config: R1Config | None = None):
        self.config = config or R1Config()

    def __call__(
        self,
        discriminator: Callable[[Tensor], Tensor],
        real: Tensor,
        fake: Tensor | None = None,
    ) -> Tensor:
        squared = _input_gradients(discriminator, real.detach()).pow(2).sum(dim=1)
        return 0.5 * self.config.gamma * squared.mean()
