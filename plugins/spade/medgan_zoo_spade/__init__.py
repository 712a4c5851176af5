"""medgan-zoo-spade: SPADE (Park et al. 2019) as a medgan-zoo GAN plugin."""

__version__ = "0.1.0"
