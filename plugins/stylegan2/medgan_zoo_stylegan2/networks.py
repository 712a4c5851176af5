"""StyleGAN2's networks: mapping network, skip-architecture synthesis network with modulated
convolutions and noise, and the residual discriminator with minibatch standard deviation."""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgan_zoo.gans.base import StepContext

from .config import StyleGan2Config
from .ops import (
    EqualConv2d,
    EqualLinear,
    bias_lrelu,
    blur,
    fp32,
    modulated_conv2d_reference,
    modulated_conv2d_scaled,
    upsample2d,
)

#: Where random noise maps come from: a generator (sampling), the training step (global-batch draws).
Rng = torch.Generator | StepContext | None

MODCONV = {"scaled": modulated_conv2d_scaled, "reference": modulated_conv2d_reference}


def _normalise(x: Tensor) -> Tensor:
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class MappingNetwork(nn.Module):
    """z -> w: second-moment normalisation, then ``layers`` (default ``mapping_layers``) fully connected
    layers with a reduced learning rate. Tracks the mean w (``w_avg``), the centre of truncation."""

    w_avg: Tensor

    def __init__(self, config: StyleGan2Config, latent_dim: int | None = None, out_dim: int | None = None,
                 layers: int | None = None):
        super().__init__()
        layers = config.mapping_layers if layers is None else layers
        z_dim = config.latent_dim if latent_dim is None else latent_dim
        w_dim = config.w_dim if out_dim is None else out_dim
        classes = len(config.class_names) if config.class_conditional else 0
        # NVIDIA's conditioning: the one-hot class embedded to w_dim, both normalised, concatenated
        self.embed = EqualLinear(classes, w_dim) if classes else None
        dims = [z_dim + (w_dim if classes else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(*(EqualLinear(a, b, lr_mult=config.mapping_lr_mult, activation=True)
                                      for a, b in zip(dims[:-1], dims[1:], strict=True)))
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.w_avg_beta = config.w_avg_beta

    def forward(self, z: Tensor, truncation: float = 1.0, track: bool = False, classes: Tensor | None = None) -> Tensor:
        with fp32(z.device):  # small, and w steers every layer: float32 even under autocast
            parts = [_normalise(z.float())] if z.shape[1] else []
            if self.embed is not None:
                if classes is None:
                    raise ValueError("this StyleGAN2 is class-conditional: it needs classes")
                one_hot = F.one_hot(classes.long().to(z.device), self.embed.weight.shape[1]).float()
                parts.append(_normalise(self.embed(one_hot)))
            w = self.layers(torch.cat(parts, dim=1))
        if track:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().float().mean(dim=0), 1 - self.w_avg_beta)
        if truncation != 1:
            w = self.w_avg.to(w.dtype).lerp(w, truncation)
        return w


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally 2x up), per-pixel noise, bias, leaky ReLU."""

    noise_const: Tensor

    def __init__(self, fin: int, fout: int, w_dim: int, resolution: int, up: bool, modconv: str):
        super().__init__()
        self.affine = EqualLinear(w_dim, fin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(fout, fin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(fout))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.up, self.resolution, self.modconv = up, resolution, MODCONV[modconv]

    def forward(self, x: Tensor, w: Tensor, noise: str | Tensor, rng: Rng) -> Tensor:
        """``noise``: "random" (drawn from ``rng``: a generator or the step context), "const" (the
        saved map) or a given map [N, 1, H, W]."""
        with fp32(w.device):  # styles (and the demodulation) in float32 even under autocast
            styles = self.affine(w.float())
        x = self.modconv(x, self.weight, styles, demodulate=True, up=self.up)
        if self.up:  # the transposed convolution gives 2H + 1; the FIR filter (gain 4) brings it to 2H
            x = blur(x, 1, gain=4.0)
        if isinstance(noise, Tensor):
            x = x + noise.to(x.dtype) * self.noise_strength
        elif noise == "random":
            shape = (x.shape[0], 1, self.resolution, self.resolution)
            if isinstance(rng, StepContext):  # training: this rank's rows of the global batch's maps
                maps = rng.randn(*shape, dtype=x.dtype)
            else:
                maps = torch.randn(shape, generator=rng, device=x.device, dtype=x.dtype)
            x = x + maps * self.noise_strength
        elif noise == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return bias_lrelu(x, self.bias)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution without demodulation to the output channels."""

    def __init__(self, fin: int, channels: int, w_dim: int, modconv: str):
        super().__init__()
        self.affine = EqualLinear(w_dim, fin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, fin, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_gain = 1 / math.sqrt(fin)
        self.modconv = MODCONV[modconv]

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        with fp32(w.device):
            styles = self.affine(w.float()) * self.weight_gain
        return self.modconv(x, self.weight, styles, demodulate=False) + self.bias.to(x.dtype).view(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (constant input or 2x up) + 2 layers + toRGB; the
    image so far is upsampled with the FIR filter and added."""

    def __init__(self, fin: int, fout: int, resolution: int, config: StyleGan2Config, channels: int):
        super().__init__()
        self.first = resolution == 4
        m = config.modconv
        if self.first:
            self.const = nn.Parameter(torch.randn(fout, 4, 4))
        else:
            self.conv0 = SynthesisLayer(fin, fout, config.w_dim, resolution, up=True, modconv=m)
        self.conv1 = SynthesisLayer(fout, fout, config.w_dim, resolution, up=False, modconv=m)
        self.torgb = ToRGB(fout, channels, config.w_dim, m)
        self.num_conv = 1 if self.first else 2

    def layers(self) -> list[SynthesisLayer]:
        """The block's noisy layers, in order."""
        return [self.conv1] if self.first else [self.conv0, self.conv1]

    def forward(self, x: Tensor | None, img: Tensor | None, ws: Tensor, noise: str | list[Tensor],
                rng: Rng) -> tuple[Tensor, Tensor]:
        """``noise``: a mode for every layer, or this block's maps in layer order."""
        maps = noise if isinstance(noise, list) else [noise] * self.num_conv
        if self.first:
            x = self.const.to(ws.dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            x = self.conv1(x, ws[:, 0], maps[0], rng)
        else:
            assert x is not None
            x = self.conv0(x, ws[:, 0], maps[0], rng)
            x = self.conv1(x, ws[:, 1], maps[1], rng)
        y = self.torgb(x, ws[:, self.num_conv]).float()  # the image accumulates in float32
        img = y if img is None else upsample2d(img) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image [N, C, H, W]; block i reads ws[i0 : i0 + num_conv + 1], the
    last of which (its toRGB) is shared with the next block's first layer, as in the paper."""

    def __init__(self, config: StyleGan2Config):
        super().__init__()
        channels = config.image_channels + config.num_classes
        levels = int(math.log2(config.resolution))
        resolutions = [2**i for i in range(2, levels + 1)]
        blocks, fin = [], 0
        for res in resolutions:
            fout = config.channels(res)
            blocks.append(SynthesisBlock(fin, fout, res, config, channels))
            fin = fout
        self.blocks = nn.ModuleList(blocks)
        self.ws_slices = [(sum(b.num_conv for b in blocks[:i]), b.num_conv + 1) for i, b in enumerate(blocks)]
        self.num_ws = sum(b.num_conv for b in blocks) + 1

    @property
    def noise_resolutions(self) -> list[int]:
        """The size of each layer's noise map, in layer order."""
        return [layer.resolution for block in self.blocks for layer in cast(SynthesisBlock, block).layers()]

    def forward(self, ws: Tensor, noise: str | list[Tensor] = "random", rng: Rng = None) -> Tensor:
        """``noise``: "random" (from ``rng``), "const" (the saved maps) or one map per layer
        ([N, 1, r, r] for r in :attr:`noise_resolutions`)."""
        x = img = None
        layer = 0
        for block, (start, count) in zip(self.blocks, self.ws_slices, strict=True):
            maps = noise[layer:layer + count - 1] if isinstance(noise, list) else noise  # count: its layers + toRGB
            layer += count - 1
            x, img = block(x, img, ws[:, start:start + count], maps, rng)
        assert img is not None
        return img


class Generator(nn.Module):
    """Mapping + synthesis. ``forward(z)`` maps, broadcasts w to every layer, synthesises."""

    def __init__(self, config: StyleGan2Config):
        super().__init__()
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)
        self.num_ws = self.synthesis.num_ws

    def compile(self, *args, **kwargs) -> None:  # type: ignore[override]
        """``torch.compile`` the mapping and synthesis networks, which training calls directly."""
        self.mapping.compile(*args, **kwargs)
        self.synthesis.compile(*args, **kwargs)

    def broadcast(self, w: Tensor) -> Tensor:
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def forward(self, z: Tensor, truncation: float = 1.0, noise: str | list[Tensor] = "const",
                classes: Tensor | None = None) -> Tensor:
        return self.synthesis(self.broadcast(self.mapping(z, truncation, classes=classes)), noise=noise)


class MinibatchStd(nn.Module):
    """Appends the standard deviation over groups of samples (averaged over features and pixels)
    as ``channels`` extra feature maps; lets D see the variety of a batch."""

    def __init__(self, group: int, channels: int):
        super().__init__()
        self.group, self.channels = group, channels

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group, n)
        if n % g:
            g = math.gcd(n, g)
        f = self.channels
        y = x.reshape(g, -1, f, c // f, h, w).float()
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
        y = y.mean(dim=(2, 3, 4)).reshape(-1, f, 1, 1).to(x.dtype)
        y = y.repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    """Residual block: two 3x3 convolutions (the second 2x down) plus a 1x1 downsampled skip,
    summed with gain sqrt(1/2)."""

    def __init__(self, fin: int, fout: int):
        super().__init__()
        self.conv0 = EqualConv2d(fin, fin, 3, activation=True)
        self.conv1 = EqualConv2d(fin, fout, 3, down=True, activation=True, gain=math.sqrt(0.5))
        self.skip = EqualConv2d(fin, fout, 1, bias=False, down=True, gain=math.sqrt(0.5))

    def forward(self, x: Tensor) -> Tensor:
        return self.skip(x) + self.conv1(self.conv0(x))


class Discriminator(nn.Module):
    """Residual discriminator: fromRGB at full resolution, residual blocks down to 4x4, then
    minibatch std, a 3x3 convolution and two fully connected layers to one logit per sample."""

    def __init__(self, config: StyleGan2Config):
        super().__init__()
        channels = config.image_channels + config.num_classes
        levels = int(math.log2(config.resolution))
        top = config.channels(config.resolution)
        self.fromrgb = EqualConv2d(channels, top, 1, activation=True)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(config.channels(2**i), config.channels(2 ** (i - 1)))
                                      for i in range(levels, 2, -1)))
        c4 = config.channels(4)
        self.mbstd = MinibatchStd(config.mbstd_group, config.mbstd_channels)
        self.conv = EqualConv2d(c4 + config.mbstd_channels, c4, 3, activation=True)
        self.fc = EqualLinear(c4 * 16, c4, activation=True)
        # class-conditional: NVIDIA's projection, the output's c4 features against a mapping of the class
        # (training/networks.py Discriminator: MappingNetwork(z_dim=0, ...) with its default 8 layers)
        self.cmap = (MappingNetwork(config, latent_dim=0, out_dim=c4, layers=config.d_mapping_layers)
                     if config.class_conditional else None)
        self.out = EqualLinear(c4, c4 if self.cmap is not None else 1)

    def forward(self, img: Tensor, classes: Tensor | None = None) -> Tensor:
        x = self.blocks(self.fromrgb(img))
        x = self.conv(self.mbstd(x))
        x = self.out(self.fc(x.flatten(1)))
        if self.cmap is None:
            return x.squeeze(1)
        if classes is None:
            raise ValueError("this StyleGAN2 discriminator is class-conditional: it needs classes")
        cmap = self.cmap(img.new_zeros(len(img), 0), classes=classes)
        return (x * cmap.to(x.dtype)).sum(dim=1) / math.sqrt(cmap.shape[1])

