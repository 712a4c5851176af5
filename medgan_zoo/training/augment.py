"""Augmentations of joint image + mask tensors [N, C+K, H, W] that respect the pair.

Geometric operations move every channel together (the mask stays on its anatomy); intensity and
colour operations touch the first ``image_channels`` channels only. All randomness comes from the
engine's ``torch.Generator``, so a resumed run repeats it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _uniform(n: int, low: float, high: float, rng: torch.Generator, device: torch.device) -> Tensor:
    return torch.rand(n, generator=rng, device=device) * (high - low) + low


def _affine(x: Tensor, theta: Tensor, padding: str) -> Tensor:
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=False)


class PairAugment:
    """Classical augmentation of real training pairs (rotation, shift, zoom, optional left-right
    flip; brightness and contrast on image channels)."""

    def __init__(self, image_channels: int, rotate: float, translate: float, scale: float,
                 flip_lr: bool = False, brightness: float = 0.1, contrast: float = 0.1):
        self.c = image_channels
        self.rotate, self.translate, self.scale = rotate, translate, scale
        self.flip_lr, self.brightness, self.contrast = flip_lr, brightness, contrast

    def __call__(self, x: Tensor, rng: torch.Generator) -> Tensor:
        n, device = x.shape[0], x.device
        angle = _uniform(n, -self.rotate, self.rotate, rng, device) * (math.pi / 180)
        zoom = 1 + _uniform(n, -self.scale, self.scale, rng, device)
        shift = _uniform(2 * n, -self.translate, self.translate, rng, device).view(n, 2) * 2
        flip = torch.ones(n, device=device)
        if self.flip_lr:
            flip = torch.where(torch.rand(n, generator=rng, device=device) < 0.5, -flip, flip)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                             torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
        out = _affine(x, theta, padding="border")
        img = out[:, :self.c]
        gain = 1 + _uniform(n, -self.contrast, self.contrast, rng, device).view(n, 1, 1, 1)
        offset = _uniform(n, -self.brightness, self.brightness, rng, device).view(n, 1, 1, 1)
        mean = img.mean(dim=(1, 2, 3), keepdim=True)
        img = ((img - mean) * gain + mean + offset).clamp(-1, 1)
        return torch.cat([img, out[:, self.c:]], dim=1)


class DiffAugment:
    """Differentiable augmentation for every discriminator input, as Zhao et al.'s reference code
    (mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch.py``) does it.

    ``color``: brightness, saturation (RGB only) and contrast of the image channels (the mask
    channels are labels, not intensities); ``translation``: a whole-pixel shift of up to 1/8 of the
    size per sample, zero padding; ``cutout``: a square of half the size zeroed, centred anywhere in
    the image, so it may be cut by the border.
    """

    def __init__(self, policy: tuple[str, ...], image_channels: int):
        unknown = set(policy) - {"color", "translation", "cutout"}
        if unknown:
            raise ValueError(f"unknown DiffAugment operations {sorted(unknown)}")
        self.policy, self.c = tuple(policy), image_channels

    def __bool__(self) -> bool:
        return bool(self.policy)

    def __call__(self, x: Tensor, rng: torch.Generator) -> Tensor:
        for op in self.policy:
            x = getattr(self, op)(x, rng)
        return x

    def color(self, x: Tensor, rng: torch.Generator) -> Tensor:
        n, device = x.shape[0], x.device
        img = x[:, :self.c]
        img = img + (torch.rand(n, 1, 1, 1, generator=rng, device=device) - 0.5)
        if self.c == 3:
            mean = img.mean(dim=1, keepdim=True)
            img = (img - mean) * (torch.rand(n, 1, 1, 1, generator=rng, device=device) * 2) + mean
        mean = img.mean(dim=(1, 2, 3), keepdim=True)
        img = (img - mean) * (torch.rand(n, 1, 1, 1, generator=rng, device=device) + 0.5) + mean
        return torch.cat([img, x[:, self.c:]], dim=1)

    def translation(self, x: Tensor, rng: torch.Generator, ratio: float = 0.125) -> Tensor:
        """Output pixel (i, j) of sample b is input pixel (i + dy_b, j + dx_b), zero outside."""
        n, _, h, w = x.shape
        max_y, max_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
        dy = torch.randint(-max_y, max_y + 1, (n, 1, 1), generator=rng, device=x.device)
        dx = torch.randint(-max_x, max_x + 1, (n, 1, 1), generator=rng, device=x.device)
        rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # [N, H, 1] source rows
        cols = torch.arange(w, device=x.device).view(1, 1, w) + dx  # [N, 1, W] source columns
        inside = ((rows >= 0) & (rows < h)) & ((cols >= 0) & (cols < w))  # [N, H, W]
        batch = torch.arange(n, device=x.device).view(n, 1, 1)
        moved = x.permute(0, 2, 3, 1)[batch, rows.clamp(0, h - 1), cols.clamp(0, w - 1)].permute(0, 3, 1, 2)
        return moved * inside.unsqueeze(1).to(x.dtype)

    def cutout(self, x: Tensor, rng: torch.Generator, ratio: float = 0.5) -> Tensor:
        n, _, h, w = x.shape
        ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
        # the square's centre: any pixel (and one past the end for even sizes), as the reference draws it
        cy = torch.randint(0, h + 1 - ch % 2, (n, 1, 1), generator=rng, device=x.device)
        cx = torch.randint(0, w + 1 - cw % 2, (n, 1, 1), generator=rng, device=x.device)
        top, left = cy - ch // 2, cx - cw // 2
        rows = torch.arange(h, device=x.device).view(1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w)
        inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
        return x * (~inside).unsqueeze(1).to(x.dtype)
