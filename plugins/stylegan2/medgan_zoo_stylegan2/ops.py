"""StyleGAN2's building blocks in plain PyTorch: equalised-learning-rate layers, the [1, 3, 3, 1]
FIR resampling filters and modulated convolution (a reference and a faster, equal formulation)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2.0)


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
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.activation:
            return bias_lrelu(F.linear(x, w), self.bias * self.bias_gain)
        return F.linear(x, w, (self.bias * self.bias_gain).to(x.dtype))


_KERNELS: dict[tuple[torch.device | None, torch.dtype, float], Tensor] = {}


def fir_kernel(device: torch.device | None = None, dtype: torch.dtype = torch.float32, gain: float = 1.0) -> Tensor:
    """The separable [1, 3, 3, 1] low-pass filter as a 4x4 kernel with sum ``gain``; cached per
    device, so the training step never copies it from the host (which would synchronise)."""
    key = (torch.device(device) if device is not None else None, dtype, gain)
    if key not in _KERNELS:
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
        kernel = taps[:, None] * taps[None, :]
        _KERNELS[key] = (kernel * (gain / kernel.sum())).to(device=device, dtype=dtype)
    return _KERNELS[key]


class _FirConv(torch.autograd.Function):
    """Depthwise convolution (or transposed convolution) with the constant FIR kernel. It is
    linear with a fixed kernel, so backward needs no saved activations: the gradient is the adjoint
    operation, itself a ``_FirConv`` (any order of derivatives works, as R1 and the path-length
    penalty need)."""

    @staticmethod
    def forward(ctx, x: Tensor, kernel: Tensor, stride: int, padding: int, transpose: bool,
                output_padding: tuple[int, int]) -> Tensor:
        ctx.kernel, ctx.stride, ctx.padding, ctx.transpose = kernel, stride, padding, transpose
        ctx.size = x.shape[2:]
        w = kernel.to(x.dtype).expand(x.shape[1], 1, *kernel.shape)
        if transpose:
            return F.conv_transpose2d(x, w, stride=stride, padding=padding, output_padding=output_padding,
                                      groups=x.shape[1])
        return F.conv2d(x, w, stride=stride, padding=padding, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad: Tensor):
        if ctx.transpose:  # adjoint of the transposed convolution: the convolution
            out = _FirConv.apply(grad, ctx.kernel, ctx.stride, ctx.padding, False, (0, 0))
        else:  # adjoint of the convolution: the transposed convolution, cropped/padded to x's size
            k = ctx.kernel.shape[0]
            extra = tuple(int(ctx.size[i]) - ((grad.shape[2 + i] - 1) * ctx.stride - 2 * ctx.padding + k)
                          for i in range(2))
            out = _FirConv.apply(grad, ctx.kernel, ctx.stride, ctx.padding, True, extra)
        return out, None, None, None, None, None


def _fir(x: Tensor, gain: float, stride: int, padding: int, transpose: bool = False) -> Tensor:
    return _FirConv.apply(x, fir_kernel(x.device, x.dtype, gain), stride, padding, transpose, (0, 0))


def upsample2d(x: Tensor) -> Tensor:
    """2x upsampling: zero insertion, then the FIR filter (gain 4 keeps the mean)."""
    return _fir(x, 4.0, 2, 1, transpose=True)


def downsample2d(x: Tensor) -> Tensor:
    """FIR low-pass, then every second pixel."""
    return _fir(x, 1.0, 2, 1)


def blur(x: Tensor, pad: int, gain: float = 1.0) -> Tensor:
    """FIR filter with ``pad`` zeros on every side (output size H + 2 * pad - 3)."""
    return _fir(x, gain, 1, pad)


class _BiasLeakyReLU(torch.autograd.Function):
    """``leaky_relu(x + bias, 0.2) * gain``, saving only its output (the sign of the output is the
    sign of the pre-activation), where separate ops would also keep the pre-activation. Backward is
    built from differentiable ops, so double backward works."""

    @staticmethod
    def forward(ctx, x: Tensor, bias: Tensor, gain: float) -> Tensor:
        y = F.leaky_relu(x + bias.to(x.dtype).view(1, -1, *([1] * (x.ndim - 2))), 0.2) * gain
        ctx.save_for_backward(y)
        ctx.gain, ctx.bias_dtype = gain, bias.dtype
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):
        (y,) = ctx.saved_tensors
        grad_x = _LeakyGrad.apply(grad, y, ctx.gain)
        dims = [0, *range(2, grad.ndim)]
        total = grad_x.sum(dim=dims, dtype=torch.promote_types(grad_x.dtype, torch.float32))  # no bf16 sums
        return grad_x, total.to(ctx.bias_dtype), None


class _LeakyGrad(torch.autograd.Function):
    """grad * slope(y) * gain; linear in grad (the slope is piecewise constant in y)."""

    @staticmethod
    def forward(ctx, grad: Tensor, y: Tensor, gain: float) -> Tensor:
        slope = torch.where(y > 0, gain, 0.2 * gain).to(grad.dtype)
        ctx.save_for_backward(slope)
        return grad * slope

    @staticmethod
    def backward(ctx, grad2: Tensor):
        (slope,) = ctx.saved_tensors
        return grad2 * slope, None, None


def bias_lrelu(x: Tensor, bias: Tensor, gain: float = SQRT2) -> Tensor:
    """Bias, leaky ReLU (0.2) and gain in one autograd node that keeps only its output."""
    return _BiasLeakyReLU.apply(x, bias, gain)


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
        w = (self.weight * self.weight_gain).to(x.dtype)
        k = w.shape[-1]
        if self.down:
            if k == 1:
                x = F.conv2d(downsample2d(x), w)
            else:  # (k + 1) / 2 zeros per side: blur + stride-2 convolution map H to H / 2
                x = F.conv2d(blur(x, (k + 1) // 2), w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.padding)
        if self.activation:
            assert self.bias is not None
            return bias_lrelu(x, self.bias, SQRT2 * self.gain)
        if self.bias is not None:
            x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        return x * self.gain if self.gain != 1 else x


def fp32(device: torch.device):
    """A context that turns autocast off (for what must stay in float32)."""
    return torch.autocast(device.type, enabled=False)


def demodulation(weight: Tensor, styles: Tensor) -> Tensor:
    """1 / ||w'|| per sample and output channel, where w' = weight * style (eps 1e-8): [N, O],
    in float32 whatever autocast is active."""
    with fp32(styles.device):
        return torch.rsqrt(styles.float().square() @ weight.float().square().sum(dim=(2, 3)).t() + 1e-8)


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
