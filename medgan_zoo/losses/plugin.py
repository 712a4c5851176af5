"""The built-in losses, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from ..hookspecs import Register, hookimpl
from ..specs import LossSpec
from . import configs

_IMPL = "medgan_zoo.losses"


@hookimpl
def register_losses(register: Register) -> None:
    register(LossSpec(
        name="minimax", role="adversarial", config=configs.MinimaxConfig,
        factory=f"{_IMPL}.adversarial:MinimaxLoss",
        summary="Binary cross-entropy GAN loss (DCGAN); non-saturating or saturating generator.",
    ))
    register(LossSpec(
        name="least-squares", role="adversarial", config=configs.LeastSquaresConfig,
        factory=f"{_IMPL}.adversarial:LeastSquaresLoss",
        summary="Least-squares GAN loss (LSGAN) with configurable a-b-c targets.",
    ))
    register(LossSpec(
        name="wasserstein", role="adversarial", config=configs.WassersteinConfig,
        factory=f"{_IMPL}.adversarial:WassersteinLoss",
        summary="Wasserstein critic loss (WGAN, WGAN-GP) with optional drift penalty.",
    ))
    register(LossSpec(
        name="hinge", role="adversarial", config=configs.HingeConfig,
        factory=f"{_IMPL}.adversarial:HingeLoss",
        summary="Hinge loss for the discriminator, critic mean for the generator (HingeGAN, SPADE).",
    ))
    register(LossSpec(
        name="gradient-penalty", role="regularizer", config=configs.GradientPenaltyConfig,
        factory=f"{_IMPL}.regularizers:GradientPenalty",
        summary="WGAN-GP gradient penalty at random real/fake interpolates.",
    ))
    register(LossSpec(
        name="r1", role="regularizer", config=configs.R1Config,
        factory=f"{_IMPL}.regularizers:R1Penalty",
        summary="R1 penalty on the discriminator's gradient at real samples (StyleGAN2).",
    ))
