"""Mask-conditioned models (SPADE, the SPADE diffusion model): where their masks come from when
``sample()`` is given none, and the checks on masks that are given.

A mask source is a small DCGAN trained on the one-hot training masks alongside the model
(``generator``, the only source a published checkpoint may hold) or the training masks themselves
with light augmentation (``bank``: local runs only, they are licensed ground truth). Both turn the
mask part of each sample's latent vector into a label map, so sampling keeps the
per-sample-seed contract. A model's own generator module holds the source (so its EMA copy does),
and :class:`MaskConditioned` gives the model the rest: the latent split, the bank's filling, the
mask DCGAN's optimisers and training step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import GAN, StepContext
from .config import MaskSourceConfig
from .dcgan_configs import DcganConfig

BANK_LATENT = 4  # which mask, rotation, two shifts

def mask_gan_config(config: MaskSourceConfig) -> DcganConfig:
    """The small unconditional DCGAN trained on the one-hot training masks alongside the model."""
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


def check_masks(masks: Tensor, resolution: int, num_classes: int) -> Tensor:
    """Given masks as int64 label maps [N,H,W] (a [N,1,H,W] tensor is accepted), or a clear error."""
    if masks.ndim == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.ndim != 3:
        raise ValueError(f"masks must be label maps [N,H,W], got shape {tuple(masks.shape)}")
    if tuple(masks.shape[1:]) != (resolution, resolution):
        raise ValueError(f"masks are {masks.shape[1]}x{masks.shape[2]} but this model generates "
                         f"{resolution}x{resolution}: resize them with nearest-neighbour interpolation first")
    if masks.is_floating_point():
        raise ValueError("masks must hold integer labels, not floats")
    if masks.numel() and (int(masks.min()) < 0 or int(masks.max()) >= num_classes):
        raise ValueError(f"mask labels must lie in 0..{num_classes - 1} (the label map), "
                         f"got {int(masks.min())}..{int(masks.max())}")
    return masks.long()


class MaskConditioned(GAN):
    """A GAN-contract model that paints given masks. Subclasses call :meth:`build_mask_source` in
    ``__init__`` (before building their generator, which must keep the returned module as its
    ``mask_source``), split latents with :meth:`masks_for`, add :meth:`mask_optimizers` to their
    optimisers and call :meth:`train_mask_source` at the end of each step."""

    config: MaskSourceConfig
    conditional = True
    per_sample_options = ("masks",)
    #: What paints the image, for :attr:`mask_origin` ("SPADE's image").
    painter = "the model's image"

    def __init__(self, config: MaskSourceConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        self.mask_gan: GAN | None = None

    def build_mask_source(self, with_discriminator: bool) -> MaskGenerator | MaskBank | None:
        """The mask source module (and, for ``generator``, ``self.mask_gan`` that trains it)."""
        from .dcgan_family import create_dcgan

        if self.config.mask_source == "generator":
            self.mask_gan = create_dcgan(mask_gan_config(self.config), with_discriminator=with_discriminator)
            return MaskGenerator(self.mask_gan.generator)
        if self.config.mask_source == "bank":
            return MaskBank()
        return None

    @property
    def needs_masks_to_sample(self) -> bool:
        return self.config.mask_source == "none"

    @property
    def mask_origin(self) -> str:
        return {"generator": f"generated by the mask DCGAN, then {self.painter}",
                "bank": f"real training masks (bank), {self.painter}",
                "none": f"given by the caller, {self.painter}"}[self.config.mask_source]

    @property
    def mask_latent_dim(self) -> int:
        """The latent values the mask source reads, after the image's."""
        return {"generator": self.config.mask_latent_dim, "bank": BANK_LATENT, "none": 0}[self.config.mask_source]

    def masks_for(self, source: nn.Module | None, z_mask: Tensor, masks: Tensor | None) -> Tensor:
        """The checked label maps to paint: ``masks`` when given, else the source's for ``z_mask``."""
        if masks is None:
            if source is None:
                raise ValueError(f"this {type(self).__name__} has no mask source (mask_source='none'): pass masks=...")
            masks = source(z_mask)
        return check_masks(masks, self.config.resolution, self.config.num_classes).to(z_mask.device)

    def fill_bank(self, data: Tensor, sources: Iterable[nn.Module | None]) -> None:
        """A ``bank`` source (and its EMA copy) takes the training masks of the joint ``data``."""
        if self.config.mask_source != "bank":
            return
        masks = data[:, self.config.image_channels:].argmax(dim=1)
        for source in sources:
            if isinstance(source, MaskBank):
                source.fill(masks.clone())  # a checkpoint cannot hold one tensor under two names

    def mask_networks(self) -> Iterator[tuple[str, nn.Module]]:
        if self.mask_gan is not None and self.mask_gan.discriminator is not None:
            yield "mask_discriminator", self.mask_gan.discriminator

    def mask_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.mask_gan is None:
            return {}
        inner = self.mask_gan.configure_optimizers()
        return {"mask_generator": inner["generator"], "mask_discriminator": inner["discriminator"]}

    def train_mask_source(self, ctx: StepContext) -> dict[str, Tensor]:
        """One step of the mask DCGAN on the step's real masks, with the same context (ranks, seeds)."""
        if self.mask_gan is None:
            return {}
        self.mask_gan.optimizers = {"generator": self.optimizers["mask_generator"],
                                    "discriminator": self.optimizers["mask_discriminator"]}
        channels = self.config.image_channels
        mask_ctx = replace(ctx, batch=lambda: ctx.batch()[:, channels:], diffaugment=_unchanged)
        return {f"mask_{key}": value for key, value in self.mask_gan.train_step(mask_ctx).items()}


def _unchanged(x: Tensor) -> Tensor:
    return x

