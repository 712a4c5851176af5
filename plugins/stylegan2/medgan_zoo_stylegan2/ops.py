"""StyleGAN2's building blocks in plain PyTorch: equalised-learning-rate layers, the [1, 3, 3, 1]
FIR resampling filters and modulated convolution (a reference and a faster, equal formulation)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2.0)


def lrelu(x: Tensor, gain: float = SQRT2) -> Tensor:
    """Leaky ReLU (0.2) scaled to keep the activations' second moment, as StyleGAN does."""
    return F.leaky_relu(x, 0.2) * gain


class EqualLinear(nn.Module):
    """Linear layer with weights stored as N(0, 1/lr_mult^2) and scaled at run time by
    ``lr_mult / sqrt(fan_in)`` (equalised learning rate); the bias is scaled by ``lr_mult``."""

    def __init__(self, fin: int, fout: int, *, bias_init: float = 0.0, lr_mult: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fout, fin) / lr_mult)
        self.bias = nn.Parameter(torch.full((fout,), float(bias_init) / lr_mult))
        self.weight_gain, self.bias_gain = lr_mult / math.sqrt(fin), lr_mult
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return lrelu(x) if self.activation else x


def fir_kernel(device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
    """The separable [1, 3, 3, 1] low-pass filter as a 4x4 kernel with unit sum."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device, dtype=dtype)
    kernel = taps[:, None] * taps[None, :]
    return kernel / kernel.sum()


def _depthwise(kernel: Tensor, channels: int, x: Tensor) -> Tensor:
    return kernel.to(device=x.device, dtype=x.dtype).expand(channels, 1, 4, 4)


def upsample2d(x: Tensor) -> Tensor:
    """2x upsampling: zero insertion, then the FIR filter (gain 4 keeps the mean)."""
    c = x.shape[1]
    return F.conv_transpose2d(x, _depthwise(fir_kernel() * 4, c, x), stride=2, padding=1, groups=c)


def downsample2d(x: Tensor) -> Tensor:
    """FIR low-pass, then every second pixel."""
    c = x.shape[1]
    return F.conv2d(x, _depthwise(fir_kernel(), c, x), stride=2, padding=1, groups=c)


def blur(x: Tensor, pad: tuple[int, int]) -> Tensor:
    """FIR filter with ``pad`` = (before, after) zero padding on both axes."""
    c = x.shape[1]
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    return F.conv2d(x, _depthwise(fir_kernel(), c, x), groups=c)


class EqualConv2d(nn.Module):
    """Convolution with equalised learning rate; ``down=True`` low-passes before a stride-2
    convolution (the discriminator's resampling)."""

    def __init__(self, fin: int, fout: int, kernel: int, *, bias: bool = True, down: bool = False,
                 activation: bool = False, gain: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fout, fin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(fout)) if bias else None
        self.weight_gain = 1 / math.sqrt(fin * kernel * kernel)
        self.down, self.activation, self.gain = down, activation, gain
        self.padding = kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight * self.weight_gain
        k = w.shape[-1]
        if self.down:
            if k == 1:
                x = F.conv2d(downsample2d(x), w)
            else:  # (k + 1) / 2 zeros per side: blur + stride-2 convolution map H to H / 2
                x = F.conv2d(blur(x, ((k + 1) // 2, (k + 1) // 2)), w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.padding)
        if self.bias is not None:
            x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        if self.activation:
            return lrelu(x, SQRT2 * self.gain)
        return x * self.gain if self.gain != 1 else x


def demodulation(weight: Tensor, styles: Tensor) -> Tensor:
    """1 / ||w'|| per sample and output channel, where w' = weight * style (eps 1e-8): [N, O]."""
    return torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8)


def modulated_conv2d_reference(x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True,
                               up: bool = False) -> Tensor:
    """The paper's formulation: every sample gets its own modulated (and demodulated) weights,
    run as one grouped convolution. ``up`` transposes the convolution with stride 2."""
    n, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    wts = weight[None] * styles[:, None, :, None, None]  # [N, O, I, k, k]
    if demodulate:
        wts = wts * torch.rsqrt(wts.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    x = x.reshape(1, n * cin, h, w)
    if up:
        wts = wts.transpose(1, 2).reshape(n * cin, cout, k, k)
        out = F.conv_transpose2d(x, wts.to(x.dtype), stride=2, groups=n)
    else:
        out = F.conv2d(x, wts.reshape(n * cout, cin, k, k).to(x.dtype), padding=k // 2, groups=n)
    return out.reshape(n, cout, *out.shape[2:])


def modulated_conv2d_scaled(x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True,
                            up: bool = False) -> Tensor:
    """The same result as :func:`modulated_conv2d_reference` with one shared weight: scale the
    input channels by the styles, convolve, scale the output channels by the demodulation.
    Dense convolutions are much faster than grouped ones for training batch sizes."""
    k = weight.shape[-1]
    x = x * styles.to(x.dtype)[:, :, None, None]
    if up:
        out = F.conv_transpose2d(x, weight.transpose(0, 1).to(x.dtype), stride=2)
    else:
        out = F.conv2d(x, weight.to(x.dtype), padding=k // 2)
    if demodulate:
        out = out * demodulation(weight, styles).to(out.dtype)[:, :, None, None]
    return out
