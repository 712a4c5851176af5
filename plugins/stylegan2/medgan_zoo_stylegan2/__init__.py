"""medgan-zoo-stylegan2: StyleGAN2 (Karras et al. 2020, config F) as a medgan-zoo GAN plugin."""

__version__ = "0.1.0"
