"""SPADE's networks: spatially-adaptive normalisation, residual blocks, the generator, an optional
image encoder, and the multi-scale PatchGAN discriminator."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .config import SpadeConfig


def _sn(layer: nn.Module, on: bool) -> nn.Module:
    return spectral_norm(layer) if on else layer


class Spade(nn.Module):
    """Parameter-free normalisation of ``x``, then a per-pixel scale and shift computed from the
    mask resized (nearest) to ``x``: ``norm(x) * (1 + gamma(m)) + beta(m)``.

    gamma and beta come from one convolution with ``2 * channels`` outputs (one kernel instead of
    two); ``norm="none"`` makes a layer that modulates an input normalised elsewhere."""

    def __init__(self, channels: int, label_channels: int, hidden: int, norm: str):
        super().__init__()
        norms: dict[str, Callable[[], nn.Module]] = {
            "batch": lambda: nn.BatchNorm2d(channels, affine=False),
            "instance": lambda: nn.InstanceNorm2d(channels, affine=False),
            "none": nn.Identity,
        }
        self.norm = norms[norm]()
        self.shared = nn.Sequential(nn.Conv2d(label_channels, hidden, 3, padding=1), nn.ReLU())
        self.gamma_beta = nn.Conv2d(hidden, 2 * channels, 3, padding=1)

    def modulate(self, normalised: Tensor, hidden: Tensor) -> Tensor:
        gamma, beta = self.gamma_beta(hidden).chunk(2, dim=1)
        return torch.addcmul(beta, normalised, 1 + gamma)

    def forward(self, x: Tensor, segmap: Tensor) -> Tensor:
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        return self.modulate(self.norm(x), self.shared(segmap))


class SpadeResBlock(nn.Module):
    """SPADE residual block. Its SPADE layers all read the same resized mask, so their first
    (mask -> hidden) convolutions run as one; the shortcut modulates the block input normalised
    once with the main branch's statistics (the same numbers SPADE's separate norm computes)."""

    def __init__(self, fin: int, fout: int, config: SpadeConfig, label_channels: int):
        super().__init__()
        middle = min(fin, fout)
        sn, hidden, norm = config.g_spectral_norm, config.spade_hidden, config.norm
        self.norm_0 = Spade(fin, label_channels, hidden, norm)
        self.conv_0 = _sn(nn.Conv2d(fin, middle, 3, padding=1), sn)
        self.norm_1 = Spade(middle, label_channels, hidden, norm)
        self.conv_1 = _sn(nn.Conv2d(middle, fout, 3, padding=1), sn)
        self.learned_shortcut = fin != fout
        if self.learned_shortcut:
            self.norm_s = Spade(fin, label_channels, hidden, "none")
            self.conv_s = _sn(nn.Conv2d(fin, fout, 1, bias=False), sn)

    def _mask_features(self, segmap: Tensor, size: torch.Size) -> tuple[Tensor, ...]:
        segmap = F.interpolate(segmap, size=size, mode="nearest")
        spades = [self.norm_0, self.norm_1, self.norm_s] if self.learned_shortcut else [self.norm_0, self.norm_1]
        convs = [cast(nn.Conv2d, spade.shared[0]) for spade in spades]
        weight = torch.cat([conv.weight for conv in convs])
        bias = torch.cat([cast(Tensor, conv.bias) for conv in convs])
        return F.relu(F.conv2d(segmap, weight, bias, padding=1)).chunk(len(convs), dim=1)

    def forward(self, x: Tensor, segmap: Tensor) -> Tensor:
        hidden = self._mask_features(segmap, x.shape[2:])
        normalised = self.norm_0.norm(x)
        shortcut = self.conv_s(self.norm_s.modulate(normalised, hidden[2])) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0.modulate(normalised, hidden[0]), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1.modulate(self.norm_1.norm(dx), hidden[1]), 0.2))
        return shortcut + dx


def _levels(resolution: int) -> int:
    levels = int(math.log2(resolution)) - 2
    if resolution < 8 or 2 ** (levels + 2) != resolution:
        raise ValueError(f"SPADE needs a power-of-two resolution >= 8, got {resolution}")
    return levels


def _official_widths(filters: int) -> list[int]:
    """NVlabs/SPADE's generator ('normal'): head_0, G_middle_0, G_middle_1 at 16 x ngf, then up_0 ...
    up_3 at 8, 4, 2, 1 x ngf."""
    return [16 * filters] * 3 + [8 * filters, 4 * filters, 2 * filters, filters]


class SpadeGenerator(nn.Module):
    """(one-hot mask [N,K,H,W], z [N,latent]) -> image [N,C,H,W] in [-1, 1].

    ``layout="official"``: NVlabs's generator: the first map (16 x filters) comes from the mask
    downsampled to res/32 (or from z), then ``head_0``; ``G_middle_0`` and ``G_middle_1`` at twice
    that size; ``up_0`` ... ``up_3`` each after another doubling. ``layout="pyramid"``: a block at 4x4,
    then one per doubling with ``widths`` (the last optionally at half resolution)."""

    def __init__(self, config: SpadeConfig):
        super().__init__()
        self.config = config
        levels = _levels(config.resolution)
        if config.layout == "official":
            widths = _official_widths(config.filters)
            self._start = config.resolution // 32
            self._upsample = [True, False, True, True, True, True]  # before G_middle_0, -_1, up_0 ... up_3
        else:
            blocks = levels if config.full_resolution_block else levels - 1
            widths = config.widths or [config.filters * min(2 ** (levels - i), 8) for i in range(blocks + 1)]
            if len(widths) != blocks + 1:
                raise ValueError(f"widths needs {blocks + 1} entries at {config.resolution}x{config.resolution} "
                                 f"(the 4x4 block and one per upsampling block), got {len(widths)}")
            self._start = 4
            self._upsample = [True] * blocks
        k = config.num_classes
        self.head: nn.Module
        if config.input == "noise":
            self.head = nn.Linear(config.latent_dim, widths[0] * self._start**2)
        else:
            self.head = nn.Conv2d(k, widths[0], 3, padding=1)
        self.first = SpadeResBlock(widths[0], widths[0], config, k)
        self.blocks = nn.ModuleList(SpadeResBlock(widths[i], widths[i + 1], config, k)
                                    for i in range(len(widths) - 1))
        self.out = nn.Conv2d(widths[-1], config.image_channels, 3, padding=1)
        self._width = widths[0]

    def forward(self, segmap: Tensor, z: Tensor) -> Tensor:
        size = self._start
        if self.config.input == "noise":
            x = self.head(z).view(len(z), self._width, size, size)
        else:
            x = self.head(F.interpolate(segmap, size=(size, size), mode="nearest"))
        x = self.first(x, segmap)
        for block, upsample in zip(self.blocks, self._upsample, strict=True):
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(x, segmap)
        if x.shape[-1] != segmap.shape[-1]:  # the last block ran at half resolution
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return torch.tanh(self.out(F.leaky_relu(x, 0.2)))


class ImageEncoder(nn.Module):
    """Image -> (mu, logvar) of z, for VAE (style-guided) mode."""

    def __init__(self, config: SpadeConfig):
        super().__init__()
        layers: list[nn.Module] = []
        width, channels = config.filters, config.image_channels
        size = config.resolution
        while size > 4:
            layers += [spectral_norm(nn.Conv2d(channels, width, 3, stride=2, padding=1)),
                       nn.InstanceNorm2d(width, affine=True), nn.LeakyReLU(0.2)]
            channels, width, size = width, min(width * 2, config.filters * 8), size // 2
        self.features = nn.Sequential(*layers)
        self.mu = nn.Linear(channels * 16, config.latent_dim)
        self.logvar = nn.Linear(channels * 16, config.latent_dim)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(images).flatten(1)
        return self.mu(h), self.logvar(h)


class PatchDiscriminator(nn.Module):
    """pix2pixHD's N-layer PatchGAN as SPADE configures it (``norm_D='spectralinstance'``): a plain
    first convolution (spectral norm there with ``first_spectral_norm``), then convolutions with
    spectral norm and instance norm (no bias: the norm would cancel it), then a plain 1-channel
    convolution. Returns every layer's output (the last is the real/fake map) for feature matching."""

    def __init__(self, in_channels: int, filters: int, layers: int, first_spectral_norm: bool = False):
        super().__init__()
        blocks = [nn.Sequential(_sn(nn.Conv2d(in_channels, filters, 4, 2, 2), first_spectral_norm), nn.LeakyReLU(0.2))]
        width = filters
        for n in range(1, layers):
            nxt = min(width * 2, 512)
            stride = 1 if n == layers - 1 else 2
            blocks.append(nn.Sequential(spectral_norm(nn.Conv2d(width, nxt, 4, stride, 2, bias=False)),
                                        nn.InstanceNorm2d(nxt, affine=False), nn.LeakyReLU(0.2)))
            width = nxt
        blocks.append(nn.Sequential(nn.Conv2d(width, 1, 4, 1, 2)))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> list[Tensor]:
        outputs = []
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    """PatchGANs on the input and on 2x, 4x... downsampled copies; input = image + one-hot mask."""

    def __init__(self, config: SpadeConfig):
        super().__init__()
        channels = config.image_channels + config.num_classes
        self.scales = nn.ModuleList(PatchDiscriminator(channels, config.d_filters, config.d_layers,
                                                       config.d_first_spectral_norm)
                                    for _ in range(config.d_scales))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """0.1.0 checkpoints hold biases before the instance norms; the norm subtracts them exactly,
        so they are dropped."""
        expected = self.state_dict().keys()
        state = {k: v for k, v in state_dict.items() if k in expected or not k.endswith(".0.bias")}
        return super().load_state_dict(state, strict=strict, assign=assign)

    def forward(self, x: Tensor) -> list[list[Tensor]]:
        results = []
        for i, discriminator in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            results.append(discriminator(x))
        return results
