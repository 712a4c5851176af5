"""The DCGAN-family backbone: an up-convolution generator and a strided-convolution discriminator
for square resolutions 32-256 (any power of two >= 8) and any channel count."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .dcgan_configs import DcganFamilyConfig

MAX_MULTIPLIER = 8  # channel width caps at 8x the base filters (as DCGAN's 64 -> 512)


def activation(name: str) -> nn.Module:
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "leaky-relu": lambda: nn.LeakyReLU(0.2, inplace=True),
        "elu": lambda: nn.ELU(inplace=True),
        "selu": lambda: nn.SELU(inplace=True),
    }[name]()


def norm(name: str, channels: int) -> nn.Module:
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


def _conv(layer: nn.Module, spectral: bool) -> nn.Module:
    return spectral_norm(layer) if spectral else layer


def _levels(resolution: int) -> int:
    levels = int(math.log2(resolution)) - 2
    if resolution < 8 or 2 ** (levels + 2) != resolution:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return levels


def _width(base: int, level: int) -> int:
    return base * min(2**level, MAX_MULTIPLIER)


class Generator(nn.Module):
    """z [N, latent] -> [N, C, R, R] in [-1, 1]: a 4x4 projection, then (R/4 - ...) x2 up-convolutions."""

    def __init__(self, config: DcganFamilyConfig, out_channels: int):
        super().__init__()
        levels = _levels(config.resolution)
        sn, base = config.g_spectral_norm, config.g_filters
        width = _width(base, levels - 1)
        layers: list[nn.Module] = [
            _conv(nn.ConvTranspose2d(config.latent_dim, width, 4, 1, 0, bias=False), sn),
            norm(config.g_norm, width), activation(config.g_activation),
        ]
        for level in range(levels - 1, 0, -1):
            nxt = _width(base, level - 1)
            layers += [_conv(nn.ConvTranspose2d(width, nxt, 4, 2, 1, bias=False), sn),
                       norm(config.g_norm, nxt), activation(config.g_activation)]
            width = nxt
        layers += [_conv(nn.ConvTranspose2d(width, out_channels, 4, 2, 1), sn), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """[N, C, R, R] -> logits [N]; ``features=True`` also returns the last hidden features."""

    def __init__(self, config: DcganFamilyConfig, in_channels: int):
        super().__init__()
        levels = _levels(config.resolution)
        sn, base = config.d_spectral_norm, config.d_filters
        layers: list[nn.Module] = [_conv(nn.Conv2d(in_channels, base, 4, 2, 1), sn),
                                   activation(config.d_activation)]
        width = base
        for level in range(1, levels):
            nxt = _width(base, level)
            layers += [_conv(nn.Conv2d(width, nxt, 4, 2, 1, bias=config.d_norm == "none"), sn),
                       norm(config.d_norm, nxt), activation(config.d_activation)]
            width = nxt
        self.features = nn.Sequential(*layers)
        self.head = _conv(nn.Conv2d(width, 1, 4, 1, 0), sn)

    def forward(self, x: Tensor, features: bool = False):
        hidden = self.features(x)
        logits = self.head(hidden).flatten()
        if features:
            return logits, hidden.flatten(1)
        return logits


@torch.no_grad()
def initialise(module: nn.Module, scheme: str, gain: float) -> None:
    """Table 1's weight initialisations for convolutions; norm layers get weight ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            owner: Any = m
            weight = owner.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            if scheme == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif scheme == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif scheme == "xavier-uniform":
                nn.init.xavier_uniform_(weight, gain=gain)
            else:
                nn.init.kaiming_normal_(weight, a=0.2, mode="fan_in", nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
