"""StyleGAN2's two regularisers as functions of the networks, so they can be checked against
independent autograd computations."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def r1_penalty(discriminator: Callable[[Tensor], Tensor], inputs: Tensor) -> Tensor:
    """Squared norm of the gradient of the logits ``discriminator(inputs)`` with respect to the
    (real) inputs, per sample [N]; the graph is kept so the penalty can be minimised (Mescheder et
    al. 2018). ``discriminator`` may include the augmentation, as in ADA."""
    inputs = inputs.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(inputs).sum(), inputs, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3))


def path_lengths(synthesis: Callable[[Tensor], Tensor], ws: Tensor, noise: Tensor) -> Tensor:
    """|J_w^T y| per sample [N]: the Jacobian of the images with respect to the per-layer w,
    applied to the image-space noise ``y`` (already divided by sqrt(H * W)), its squared norm
    summed over w's dimensions, averaged over layers, square root (Karras et al. 2020, eq. 4)."""
    images = synthesis(ws)
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grad.square().sum(dim=2).mean(dim=1).sqrt()
