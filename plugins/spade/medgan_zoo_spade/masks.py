"""Where masks come from when ``sample()`` is given none: a mask generator or a mask bank.

Both turn the mask part of each sample's latent vector into a label map, so sampling keeps the
per-sample-seed contract.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgan_zoo.gans.dcgan_configs import DcganConfig

from .config import SpadeConfig

BANK_LATENT = 4  # which mask, rotation, two shifts


def mask_gan_config(config: SpadeConfig) -> DcganConfig:
    """The small unconditional DCGAN trained on the one-hot training masks alongside SPADE."""
    return DcganConfig(resolution=config.resolution, image_channels=0, num_classes=config.num_classes,
                       latent_dim=config.mask_latent_dim, batch_size=config.batch_size, g_filters=config.mask_filters,
                       d_filters=config.mask_filters, lr=config.mask_lr)


class MaskGenerator(nn.Module):
    """z [N, mask_latent_dim] -> label maps [N,H,W] (argmax of the generated one-hot channels)."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, z: Tensor) -> Tensor:
        return self.network(z).argmax(dim=1)


class MaskBank(nn.Module):
    """The training masks (kept in the checkpoint: for local runs only), picked and augmented
    (rotation up to 10 degrees, shifts up to 5%, as training augments) by the latent vector."""

    bank: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("bank", torch.zeros(0, 1, 1, dtype=torch.uint8))

    def fill(self, masks: Tensor) -> None:
        self.bank = masks.to(torch.uint8).contiguous()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "bank"
        if key in state_dict:  # the bank's size is only known from the checkpoint
            self.bank = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, z: Tensor) -> Tensor:
        if len(self.bank) == 0:
            raise ValueError("the mask bank is empty: it fills from the training data")
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))  # the normal CDF: uniform in [0, 1)
        index = (u * len(self.bank)).long().clamp(max=len(self.bank) - 1)
        masks = self.bank[index.to(self.bank.device)].long().to(z.device)
        classes = int(self.bank.max()) + 1
        one_hot = F.one_hot(masks, classes).permute(0, 3, 1, 2).float()
        angle = torch.tanh(z[:, 1]) * math.radians(10)
        shift = torch.tanh(z[:, 2:4]) * 0.1
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(one_hot.shape), align_corners=False)
        moved = F.grid_sample(one_hot, grid, mode="nearest", padding_mode="border", align_corners=False)
        return moved.argmax(dim=1)
