"""Class conditioning for unconditional backbones: a class embedding beside z in the generator, a
projection discriminator (Miyato & Koyama 2018, "cGANs with projection discriminator")."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .base import StepContext


class ClassEmbeddingGenerator(nn.Module):
    """``G(z, y) = backbone(cat(z, E[y]))``: a learned embedding of the class concatenated to z."""

    def __init__(self, backbone: nn.Module, classes: int, dim: int):
        super().__init__()
        self.backbone = backbone
        self.embed = nn.Embedding(classes, dim)

    def forward(self, z: Tensor, classes: Tensor) -> Tensor:
        return self.backbone(torch.cat([z, self.embed(classes.long()).to(z.dtype)], dim=1))


class ProjectionDiscriminator(nn.Module):
    """``D(x, y) = psi(phi(x)) + <V[y], sum-pooled phi(x)>``; ``backbone(x, features=True)`` gives
    the unconditional logits psi(phi(x)) and phi(x) flattened from ``channels`` feature maps."""

    def __init__(self, backbone: nn.Module, classes: int, channels: int, spectral: bool):
        super().__init__()
        self.backbone, self.channels = backbone, channels
        embed = nn.Embedding(classes, channels)
        nn.init.xavier_uniform_(embed.weight)
        self.embed = spectral_norm(embed) if spectral else embed

    def forward(self, x: Tensor, classes: Tensor, features: bool = False):
        logits, hidden = self.backbone(x, features=True)
        pooled = hidden.reshape(len(x), self.channels, -1).sum(dim=2)
        logits = logits + (self.embed(classes.long()).to(pooled.dtype) * pooled).sum(dim=1)
        return (logits, hidden) if features else logits


def draw_classes(ctx: StepContext, n: int, shares: Tensor) -> Tensor:
    """Classes of ``n`` generated samples in the training proportions ``shares`` (this rank's rows
    of a draw for the global batch)."""
    cdf = shares.to(ctx.device, torch.float32).cumsum(0)  # a no-op move for a buffer on the device
    u = ctx.rand(n) * cdf[-1]
    return torch.searchsorted(cdf, u, right=True).clamp(max=len(shares) - 1)
