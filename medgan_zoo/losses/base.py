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


class CheckedRegularizer(Regularizer):
    """A regulariser plugin's callable, its penalty checked as a loss term's."""

    def __init__(self, inner: Callable[..., Tensor], label: str) -> None:
        self.inner = inner
        self.label = label

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def __call__(self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor | None = None) -> Tensor:
        from ..handover import calling, check_loss

        return check_loss(calling(self.label, "the penalty", self.inner, discriminator, real, fake), self.label,
                          "the penalty")


def _checked_term(method: Callable[..., Tensor], label: str, term: str) -> Callable[..., Tensor]:
    def term_checked(*args, **kwargs) -> Tensor:
        from ..handover import calling, check_loss

        return check_loss(calling(label, term, method, *args, **kwargs), label, term)

    return term_checked


def checked(obj: object, label: str, role: str) -> object:
    """``obj`` with what it returns checked where it enters the core (a scalar) and an exception from
    its code naming the plugin. A loss object keeps its type (its two terms are wrapped on the
    instance); a regulariser is wrapped in :class:`CheckedRegularizer`."""
    if role == "adversarial" and isinstance(obj, AdversarialLoss):
        for term in ("discriminator_loss", "generator_loss"):
            setattr(obj, term, _checked_term(getattr(obj, term), label, term))
        return obj
    if role == "regularizer" and callable(obj):
        return CheckedRegularizer(obj, label)
    return obj
