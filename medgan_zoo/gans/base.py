"""The contract between a GAN plugin, the training engine and the sampling API.

A GAN plugin's factory returns a :class:`GAN`: a module holding a ``generator`` (and, for training,
a ``discriminator``) that knows how to turn latent vectors into image + mask pairs
(:meth:`GAN.generate`, :meth:`GAN.to_pairs`), which optimisers it wants, and how to take one
training step given a :class:`StepContext` from the engine.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .config import GanConfig


def _alone(t: Tensor) -> Tensor:
    return t


def _no_classes() -> Tensor | None:
    return None


#: ``GAN.mask_origin`` of a GAN that generates each mask with its image.
JOINT_MASKS = "generated with the image"


@dataclass
class StepContext:
    """What the engine hands a GAN's :meth:`GAN.train_step`.

    ``batch()`` draws the next batch of real training pairs (joint tensor [B, C+K, H, W], already
    augmented and on the device); ``randn``/``rand``/``randint`` draw from the engine's seeded
    generator, so a resumed run repeats the same numbers; ``autocast()`` is bf16 autocast on GPU and
    a no-op on CPU; ``diffaugment`` is the differentiable augmentation to apply to every
    discriminator input.

    Under torchrun (``world`` > 1) ``batch()`` is this rank's share of the global batch (rows
    ``rank``, ``rank + world``, ...) and every draw is this rank's rows of a draw for the global
    batch (the first dimension is the batch): a step that draws its randomness here and keeps its
    losses means over the batch computes what one process computes. State that follows the batch
    (a running mean, a count) goes through :meth:`sum_over_ranks` or :meth:`batch_mean`.
    """

    batch: Callable[[], Tensor]
    rng: torch.Generator
    device: torch.device
    autocast: Callable[[], contextlib.AbstractContextManager]
    diffaugment: Callable[[Tensor], Tensor]
    step: int = 0
    rank: int = 0
    world: int = 1
    #: The sum over ranks of a tensor, differentiable (the engine's all-reduce; unused on one rank).
    all_sum: Callable[[Tensor], Tensor] = _alone
    #: The classes (int64 [B], indices into the config's ``class_names``) of the rows the last
    #: ``batch()`` returned, for a class-conditional GAN; None otherwise.
    batch_classes: Callable[[], Tensor | None] = _no_classes

    def rows(self, full: Tensor) -> Tensor:
        """This rank's rows of a tensor for the global batch."""
        return full if self.world == 1 else full[self.rank::self.world]

    def randn(self, *shape: int, dtype: torch.dtype | None = None) -> Tensor:
        full = torch.randn(shape[0] * self.world, *shape[1:], generator=self.rng, device=self.device, dtype=dtype)
        return self.rows(full)

    def rand(self, *shape: int) -> Tensor:
        return self.rows(torch.rand(shape[0] * self.world, *shape[1:], generator=self.rng, device=self.device))

    def randint(self, low: int, high: int, n: int) -> Tensor:
        return self.rows(torch.randint(low, high, (n * self.world,), generator=self.rng, device=self.device))

    def sum_over_ranks(self, value: Tensor) -> Tensor:
        """``value`` summed over the ranks (``value`` itself on one process); no autograd."""
        return value if self.world == 1 else self.all_sum(value.detach())

    def batch_average(self, x: Tensor) -> Tensor:
        """``x.mean(0)`` over the global batch, differentiable: a loss on batch means (feature
        matching) is then the one-process loss on every rank."""
        if self.world == 1:
            return x.mean(0)
        return self.all_sum(x.sum(0)) / (len(x) * self.world)

    def batch_mean(self, per_sample: Tensor) -> Tensor:
        """The mean of a per-sample quantity over the global batch (detached)."""
        if self.world == 1:
            return per_sample.detach().mean()
        total = self.sum_over_ranks(per_sample.detach().float().sum())
        return total / (per_sample.numel() * self.world)


class GAN(nn.Module):
    """Base class of every GAN plugin object.

    Subclasses build ``self.generator`` and, when ``with_discriminator``, ``self.discriminator``
    in ``__init__``, and implement :meth:`generate`, :meth:`configure_optimizers` and
    :meth:`train_step`. Unconditional GANs generate image channels followed by one-hot mask
    channels; conditional ones (SPADE) override :meth:`generate` to take masks.
    """

    conditional: bool = False
    #: Samples per generator forward pass when sampling (fixed, so results never depend on the
    #: caller's batch size); plugins with large generators may lower it.
    sampling_block: int = 32
    #: Sampling options that carry one value per sample (e.g. SPADE's ``masks``): the sampler
    #: checks their length against n and hands each forward block its own slice.
    per_sample_options: tuple[str, ...] = ()
    #: True: :meth:`generate` also receives ``seeds``, an int64 tensor [N] of each sample's own
    #: seed (the one its z was drawn from), for any further per-sample randomness (StyleGAN2's
    #: layer noise), so samples stay independent of the batch size (and of the device, when that
    #: randomness is drawn on the CPU as StyleGAN2's is; a diffusion model's step noise is not).
    takes_sample_seeds: bool = False

    def __init__(self, config: GanConfig, with_discriminator: bool = True):
        super().__init__()
        self.config = config
        self.with_discriminator = with_discriminator
        self.generator: nn.Module
        self.discriminator: nn.Module | None = None
        self.generator_ema: nn.Module | None = None
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    # -- generation ---------------------------------------------------------------------------

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def output_channels(self) -> int:
        return self.config.image_channels + self.config.num_classes

    @property
    def needs_masks_to_sample(self) -> bool:
        """True when ``generate`` must be given ``masks=`` (a conditional GAN with no mask source)."""
        return False

    @property
    def mask_origin(self) -> str:
        """Where sampled masks come from, in a few words for tables and cards (a conditional GAN
        says which mask source it uses: the comparison with joint generation depends on it)."""
        return JOINT_MASKS

    def sampling_generator(self) -> nn.Module:
        """The generator to sample from: the EMA copy when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def generate(self, z: Tensor, generator: nn.Module | None = None, **options: Any) -> Tensor:
        """Raw generator output [N, C+K, H, W] in [-1, 1] for latent vectors ``z`` [N, latent]."""
        if options:
            raise TypeError(f"{type(self).__name__} takes no sampling options, got {sorted(options)}")
        return (generator or self.generator)(z)

    def to_pairs(self, output: Tensor) -> tuple[Tensor, Tensor]:
        """Split a joint output into images [N,C,H,W] in [-1, 1] and masks uint8 [N,H,W] (argmax)."""
        c = self.config.image_channels
        images = output[:, :c].float().clamp(-1, 1)
        if self.config.num_classes == 0:
            masks = torch.zeros((output.shape[0], *output.shape[2:]), dtype=torch.uint8,
                                device=output.device)
        else:
            masks = output[:, c:].argmax(dim=1).to(torch.uint8)
        return images, masks

    # -- training -----------------------------------------------------------------------------

    def distributed_problem(self, world: int) -> str | None:
        """Why this GAN cannot train with its config on ``world`` ranks (None: it can); the engine
        refuses torchrun with the reason. The default: any number of ranks the batch divides."""
        return None

    def prepare_training(self, data: Tensor) -> None:
        """Called once before the first step with the whole joint training tensor (on the device):
        check that what the config asks for is available; keep what the GAN needs from the data."""

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Create ``self.optimizers`` (names are checkpoint keys)."""
        raise NotImplementedError

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        """One optimiser step of the generator (and its discriminator steps); returns detached
        scalar tensors to log. Must not synchronise with the host (no ``.item()``)."""
        raise NotImplementedError

    def enable_ema(self) -> None:
        """With ``config.ema``: ``generator_ema`` becomes a copy of the current ``generator`` (call it
        again after replacing the generator, as a subclass that swaps networks does)."""
        if self.config.ema:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()

    @torch.no_grad()
    def update_ema(self, decay: float | None = None) -> None:
        """Move the EMA generator toward the generator by ``1 - decay`` (default: the config's
        ``ema_decay``); the engine calls it after every step."""
        if self.generator_ema is None:
            return
        ema_params: list[Tensor] = list(self.generator_ema.parameters())
        params: list[Tensor] = list(self.generator.parameters())
        torch._foreach_lerp_(ema_params, params, 1.0 - (self.config.ema_decay if decay is None else decay))
        for ema_buffer, buffer in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            ema_buffer.copy_(buffer)

    def networks(self) -> Iterator[tuple[str, nn.Module]]:
        """(name, module) of every network, for checkpoints: generator, generator_ema, discriminator.

        Names ending in ``discriminator`` or ``training_state`` are training-only (see
        :func:`training_only`): checkpoints keep them, model files leave them out."""
        yield "generator", self.generator
        if self.generator_ema is not None:
            yield "generator_ema", self.generator_ema
        if self.discriminator is not None:
            yield "discriminator", self.discriminator


def training_only(name: str) -> bool:
    """Whether the network ``name`` from :meth:`GAN.networks` is needed for training only
    (discriminators; a ``training_state`` module of buffers such as running means)."""
    return name.endswith("discriminator") or name.endswith("training_state")


def joint_from_pairs(images: Tensor, masks: Tensor, num_classes: int) -> Tensor:
    """Images [N,C,H,W] in [-1, 1] and integer masks [N,H,W] -> joint [N, C+K, H, W], masks as
    one-hot channels scaled to {-1, 1} like the images (paper section 3.6)."""
    if num_classes == 0:
        return images
    one_hot = torch.nn.functional.one_hot(masks.long(), num_classes).permute(0, 3, 1, 2)
    return torch.cat([images, one_hot.to(images.dtype) * 2 - 1], dim=1)
