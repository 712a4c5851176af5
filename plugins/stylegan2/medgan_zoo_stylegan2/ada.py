"""Adaptive discriminator augmentation (Karras et al., NeurIPS 2020) for image + mask pairs.

Every discriminator input (real and generated) goes through the same random pipeline; each
transform is applied to a sample with probability ``p``. ``p`` rises while the discriminator is
overconfident on reals (r_t = E[sign(D(real))] above the target) and falls otherwise. Geometric
transforms (integer translation, isotropic scaling, rotation, anisotropic scaling, rotation,
fractional translation and, when allowed, left-right flips; one bilinear resampling with reflected
borders, where NVIDIA's pipe resamples at twice the size through a wavelet low-pass) move every
channel together, so the mask stays on its anatomy; brightness, contrast and (RGB) saturation touch
the image channels only. Everything stays on the device and the update of ``p`` never synchronises
with the host.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgan_zoo.gans.base import StepContext

#: Where the pipe's random numbers come from: a generator, or the training step (whose draws are
#: this rank's rows of the global batch's, so several ranks augment as one process does).
Rng = torch.Generator | StepContext


def _eye(n: int, device: torch.device) -> Tensor:
    return torch.eye(3, device=device).expand(n, 3, 3).clone()


class AdaptiveAugment(nn.Module):
    """The augmentation pipe; ``p`` and the running sign statistics are buffers, so they are in
    checkpoints and a resumed run continues with the same strength."""

    p: Tensor
    signs: Tensor

    def __init__(self, image_channels: int, target: float, kimg: float, interval: int, batch_size: int,
                 flip_lr: bool = False):
        super().__init__()
        self.c, self.target, self.flip_lr = image_channels, target, flip_lr
        self.speed = batch_size * interval / (kimg * 1000)
        self.register_buffer("p", torch.zeros(()))
        self.register_buffer("signs", torch.zeros(2))  # sum of sign(D(real)), count

    # -- adaptation ---------------------------------------------------------------------------

    @torch.no_grad()
    def accumulate(self, real_logits: Tensor, ctx: StepContext | None = None) -> None:
        """Add the signs of D's real logits (summed over the ranks with ``ctx``, so p is the same
        on every rank and follows the global batch)."""
        logits = real_logits.detach().float()
        counts = torch.stack([logits.sign().sum(), logits.new_tensor(float(logits.numel()))])
        self.signs += counts if ctx is None else ctx.sum_over_ranks(counts)

    @torch.no_grad()
    def adjust(self) -> Tensor:
        """Move p by +-speed toward the target r_t; returns the r_t that was used."""
        r_t = self.signs[0] / self.signs[1].clamp(min=1)
        step = torch.sign(r_t - self.target) * self.speed * (self.signs[1] > 0)
        self.p.copy_((self.p + step).clamp(min=0, max=1))
        self.signs.zero_()
        return r_t

    # -- the pipeline ---------------------------------------------------------------------------

    def matrices(self, n: int, rng: Rng, device: torch.device, size: tuple[int, int]) -> Tensor:
        """Per-sample 3x3 maps from output to input coordinates in [-1, 1]: each transform is on
        for a sample with probability p (rotation: two draws whose union has probability p)."""
        rand, randn = _draws(rng, device)

        def chosen() -> Tensor:
            return (rand(n) < self.p).float()

        h, w = size
        m = _eye(n, device)
        if self.flip_lr:
            m = m @ _diag(1 - 2 * chosen() * (rand(n) < 0.5).float(), torch.ones(n, device=device))
        shift = (rand(n, 2) * 2 - 1) * 0.25 * chosen()[:, None]  # integer translation, up to 1/8 of the size
        half = (w / 2, h / 2)  # pixels per unit of the [-1, 1] coordinates, per axis
        m = m @ _translate(torch.stack([torch.round(shift[:, i] * half[i]) / half[i] for i in range(2)], dim=1))
        iso = torch.exp2(randn(n) * 0.2 * chosen())
        m = m @ _diag(iso, iso)
        p_rot = 1 - torch.sqrt((1 - self.p).clamp(min=0))
        m = m @ _rotate((rand(n) * 2 - 1) * math.pi * (rand(n) < p_rot).float())  # pre-rotation
        aniso = torch.exp2(randn(n) * 0.2 * chosen())
        m = m @ _diag(aniso, 1 / aniso)
        m = m @ _rotate((rand(n) * 2 - 1) * math.pi * (rand(n) < p_rot).float())  # post-rotation
        return m @ _translate(randn(n, 2) * 0.25 * chosen()[:, None])  # fractional translation, std 1/8

    def forward(self, x: Tensor, rng: Rng) -> Tensor:
        # fp32 whatever autocast is active: a bf16 sampling grid is off by up to a pixel, which
        # would blur generated (bf16) images differently from real (fp32) ones
        with torch.autocast(x.device.type, enabled=False):
            return self._augment(x.float(), rng).to(x.dtype)

    def _augment(self, x: Tensor, rng: Rng) -> Tensor:
        n, _, h, w = x.shape
        m = self.matrices(n, rng, x.device, (h, w))
        rand, randn = _draws(rng, x.device)
        grid = F.affine_grid(m[:, :2, :], list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if not self.c:
            return x
        img, rest = x[:, :self.c], x[:, self.c:]

        def draw(std: float) -> Tensor:
            on = (rand(n) < self.p).float()
            return (randn(n) * std * on).view(n, 1, 1, 1)

        img = img + draw(0.2)  # brightness
        mean = img.mean(dim=(1, 2, 3), keepdim=True)
        img = (img - mean) * torch.exp2(draw(0.5)) + mean  # contrast
        if self.c == 3:
            luma = img.mean(dim=1, keepdim=True)
            img = (img - luma) * torch.exp2(draw(1.0)) + luma  # saturation
        return torch.cat([img, rest], dim=1)


def _draws(rng: Rng, device: torch.device) -> tuple[Callable[..., Tensor], Callable[..., Tensor]]:
    """(rand, randn) taking a shape whose first dimension is the batch."""
    if isinstance(rng, StepContext):
        return rng.rand, rng.randn

    def rand(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=rng, device=device)

    def randn(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=rng, device=device)

    return rand, randn


def _diag(sx: Tensor, sy: Tensor) -> Tensor:
    m = _eye(len(sx), sx.device)
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    return m


def _translate(t: Tensor) -> Tensor:
    m = _eye(len(t), t.device)
    m[:, :2, 2] = t
    return m


def _rotate(angle: Tensor) -> Tensor:
    m = _eye(len(angle), angle.device)
    cos, sin = torch.cos(angle), torch.sin(angle)
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cos, -sin, sin, cos
    return m
