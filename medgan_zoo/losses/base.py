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
    """A regulariser plugin's callable, its penalty checked as a loss term's (its own keyword
    arguments, e.g. the gradient penalty's ``generator=``, pass through)."""

    def __init__(self, inner: Callable[..., Tensor], label: str) -> None:
        self.inner = inner
        self.label = label

    def __getattr__(self, name: str):
        if name in ("inner", "label") or name.startswith("__"):  # copy and pickle build it without __init__
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor | None = None,
                 **kwargs) -> Tensor:
        from ..handover import calling, check_loss

        return check_loss(calling(self.label, "the penalty", self.inner, discriminator, real, fake, **kwargs),
                          self.label, "the penalty")


class _CheckedTerm:
    """One term of a loss object, checked: a module-level callable (not a closure), so a GAN holding
    the loss still pickles, and a deep copy's term calls the copy."""

    def __init__(self, owner: object, term: str, label: str) -> None:
        self.owner, self.term, self.label = owner, term, label

    def __call__(self, *args, **kwargs) -> Tensor:
        from ..handover import calling, check_loss

        method = getattr(type(self.owner), self.term).__get__(self.owner)
        return check_loss(calling(self.label, self.term, method, *args, **kwargs), self.label, self.term)


def checked(obj: object, label: str, role: str) -> object:
    """``obj`` with what it returns checked where it enters the core (a scalar) and an exception from
    its code naming the plugin. A loss object keeps its type (its two terms are wrapped on the
    instance, duck-typed ones too); a regulariser is wrapped in :class:`CheckedRegularizer`."""
    if role == "adversarial" and all(callable(getattr(obj, t, None)) for t in ("discriminator_loss", "generator_loss")):
        try:
            for term in ("discriminator_loss", "generator_loss"):
                setattr(obj, term, _CheckedTerm(obj, term, label))
        except AttributeError:  # __slots__ or a frozen object: left as it is
            pass
        return obj
    if role == "regularizer" and callable(obj):
        return CheckedRegularizer(obj, label)
    return obj
