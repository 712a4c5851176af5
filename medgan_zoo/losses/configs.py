"""Config models of the built-in losses (pydantic only, so discovery stays light)."""

from __future__ import annotations

from pydantic import Field

from ..specs import PluginConfig


class MinimaxConfig(PluginConfig):
    saturating: bool = Field(
        default=False,
        description="Generator minimises log(1 - D(G(z))) as in the original minimax game instead "
        "of maximising log D(G(z)) (the non-saturating default).",
    )
    real_label: float = Field(
        default=1.0, gt=0.5, le=1.0,
        description="Target for real samples in the discriminator loss; below 1 is one-sided label "
        "smoothing (0.9 in Salimans et al. 2016).",
    )


class LeastSquaresConfig(PluginConfig):
    real_label: float = Field(default=1.0, description="b: discriminator target for real samples.")
    fake_label: float = Field(default=0.0, description="a: discriminator target for fakes.")
    generator_target: float = Field(
        default=1.0, description="c: the value the generator wants D to output on its samples."
    )


class WassersteinConfig(PluginConfig):
    drift: float = Field(
        default=0.0, ge=0.0,
        description="Weight of the drift penalty mean(D(x)^2) on real outputs (1e-3 in ProGAN); "
        "keeps the critic's values near zero.",
    )


class HingeConfig(PluginConfig):
    margin: float = Field(default=1.0, gt=0.0, description="Hinge margin of the discriminator.")


class GradientPenaltyConfig(PluginConfig):
    weight: float = Field(default=10.0, ge=0.0, description="lambda of WGAN-GP (10 in the paper).")
    target: float = Field(
        default=1.0, ge=0.0,
        description="Gradient norm the penalty pulls towards at real/fake interpolates; 0 gives "
        "the zero-centred variant.",
    )


class R1Config(PluginConfig):
    gamma: float = Field(
        default=10.0, ge=0.0,
        description="R1 weight: the penalty is gamma / 2 * E[|grad D(x)|^2] on real samples.",
    )
