"""The DCGAN-family backbone: an up-convolution generator and a strided-convolution discriminator
for square resolutions 32-256 (any power of two >= 8) and any channel count."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .dcgan_configs import DcganFamilyConfig

MAX_MULTIPLIER = 8  # channel width caps at 8x the base filters (as DCGAN's 64 -> 512)


#: The negative slope of each activation, for He initialisation (ReLU's 0 for ELU and SELU too:
#: both are the identity for positive inputs, and torch has no He gain for ELU).
SLOPE = {"relu": 0.0, "leaky-relu": 0.2, "elu": 0.0, "selu": 0.0}


def activation(name: str) -> nn.Module:
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "leaky-relu": lambda: nn.LeakyReLU(SLOPE["leaky-relu"], inplace=True),
        "elu": lambda: nn.ELU(inplace=True),
        "selu": lambda: nn.SELU(inplace=True),
    }[name]()


def norm(name: str, channels: int) -> nn.Module:
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


#: Power iterations run on the initialised weights, so the first steps divide by the true norm.
SN_WARMUP_ITERATIONS = 100


@torch.no_grad()
def _finish(network: nn.Module, config: DcganFamilyConfig, act: str, spectral: bool) -> None:
    """Initialise the convolutions, then add spectral norm and converge its estimate on those
    weights (added before, its estimate would belong to the discarded default init; torch's own 15
    registration iterations leave it a few percent low on random weights)."""
    initialise(network, config.init, config.init_gain, SLOPE[act])
    if spectral:
        for module in list(network.modules()):
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                spectral_norm(module)
        converge_spectral_norms(network)


@torch.no_grad()
def converge_spectral_norms(network: nn.Module) -> None:
    """Run each spectral norm's power iteration on the weights as they are now, so that the first
    steps divide by their true largest singular value."""
    for module in network.modules():
        if hasattr(module, "parametrizations") and hasattr(module.parametrizations, "weight"):
            was = module.training
            module.train()
            for _ in range(SN_WARMUP_ITERATIONS):  # each access in training mode is one iteration
                module.weight  # noqa: B018
            module.train(was)


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
        base = config.g_filters
        bias = config.g_norm == "none"  # a normalisation that follows would cancel the bias
        width = _width(base, levels - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, width, 4, 1, 0, bias=bias),
            norm(config.g_norm, width), activation(config.g_activation),
        ]
        for level in range(levels - 1, 0, -1):
            nxt = _width(base, level - 1)
            layers += [nn.ConvTranspose2d(width, nxt, 4, 2, 1, bias=bias),
                       norm(config.g_norm, nxt), activation(config.g_activation)]
            width = nxt
        layers += [nn.ConvTranspose2d(width, out_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _finish(self, config, config.g_activation, config.g_spectral_norm)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """Files written by 0.1.0 have no hidden-layer biases without normalisation: they load
        as zeros, which is what those networks computed."""
        state = dict(state_dict)
        for key, value in self.state_dict().items():
            if key.endswith(".bias") and key not in state and _hidden_bias(key, len(self.net)):
                state[key] = torch.zeros_like(value)
        return super().load_state_dict(state, strict=strict, assign=assign)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """[N, C, R, R] -> logits [N]; ``features=True`` also returns the last hidden features."""

    def __init__(self, config: DcganFamilyConfig, in_channels: int):
        super().__init__()
        levels = _levels(config.resolution)
        base = config.d_filters
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 4, 2, 1), activation(config.d_activation)]
        width = base
        for level in range(1, levels):
            nxt = _width(base, level)
            layers += [nn.Conv2d(width, nxt, 4, 2, 1, bias=config.d_norm == "none"),
                       norm(config.d_norm, nxt), activation(config.d_activation)]
            width = nxt
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 1, 4, 1, 0)
        _finish(self, config, config.d_activation, config.d_spectral_norm)

    def forward(self, x: Tensor, features: bool = False):
        hidden = self.features(x)
        logits = self.head(hidden).flatten()
        if features:
            return logits, hidden.flatten(1)
        return logits


def _hidden_bias(key: str, layers: int) -> bool:
    """Whether ``net.I.bias`` (or its spectral-norm form) is a hidden up-convolution's bias."""
    index = key.split(".")[1]
    return index.isdigit() and int(index) < layers - 2


def default_gain(scheme: str) -> float:
    """``init_gain=None``: 1.0 for 'kaiming' (He et al.), 0.02 otherwise (DCGAN, pix2pix)."""
    return 1.0 if scheme == "kaiming" else 0.02


@torch.no_grad()
def initialise(module: nn.Module, scheme: str, gain: float | None, slope: float = 0.2) -> None:
    """Table 1's weight initialisations for convolutions and linear layers, ``gain`` crossed with
    every function: 'normal' N(0, gain^2); 'xavier'/'xavier-uniform' Glorot with that gain;
    'kaiming' He's fan-in normal for an activation of negative ``slope``, its std times ``gain``.
    Biases start at zero; norm layers get weight ~ N(1, 0.02). A spectrally normalised layer's raw
    weight is what is initialised (its estimate must be converged afterwards)."""
    gain = default_gain(scheme) if gain is None else gain
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            owner: Any = m
            weight = owner.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            if scheme == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif scheme == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif scheme == "xavier-uniform":
                nn.init.xavier_uniform_(weight, gain=gain)
            else:
                nn.init.kaiming_normal_(weight, a=slope, mode="fan_in", nonlinearity="leaky_relu")
                weight.mul_(gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
