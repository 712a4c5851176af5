"""Built-in adversarial losses and discriminator regularisers (registered as the 'losses' plugin).

Nothing heavy is imported here: the implementations live in :mod:`.adversarial` and
:mod:`.regularizers` and are imported by their spec factories on first use.
"""

from .base import AdversarialLoss, Regularizer

__all__ = ["AdversarialLoss", "Regularizer"]
