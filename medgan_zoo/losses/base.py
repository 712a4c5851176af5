"""The two shapes a loss plugin's object takes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor


class AdversarialLoss(ABC):
    """The discriminator and generator terms of one GAN objective.

    Both take raw discriminator outputs (logits or critic values) of any shape and return a scalar;
    they compute in float32 whatever the autocast dtype of the logits. A loss whose generator term
    compares against the real outputs (relativistic losses) sets ``generator_needs_real``: training
    steps then pass ``real=`` (the discriminator's outputs on the real batch, without gradients).
    """

    generator_needs_real: bool = False

    @abstractmethod
    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """Loss the discriminator minimises, given its outputs on real and generated batches."""

    @abstractmethod
    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        """Loss the generator minimises; ``real`` is for objectives that compare against it."""


class Regularizer(ABC):
    """A penalty on the discriminator's input gradients, added to its loss.

    ``discriminator`` is any callable from images to outputs: wrap a conditional discriminator in a
    closure that supplies the condition.
    """

    @abstractmethod
    def __call__(
        self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor | None = None
    ) -> Tensor:
        """The weighted penalty (a scalar with a graph, ready to be added and back-propagated)."""
