"""The built-in losses against values worked out by hand (math, not torch)."""

from __future__ import annotations

import math

import pytest
import torch

from medgan_zoo.losses.adversarial import HingeLoss, LeastSquaresLoss, MinimaxLoss, WassersteinLoss
from medgan_zoo.losses.configs import (
    GradientPenaltyConfig,
    HingeConfig,
    LeastSquaresConfig,
    MinimaxConfig,
    R1Config,
    WassersteinConfig,
)
from medgan_zoo.losses.regularizers import GradientPenalty, R1Penalty


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -0.5])


def close(value: torch.Tensor, expected: float) -> bool:
    return math.isclose(value.item(), expected, rel_tol=1e-6, abs_tol=1e-7)


def test_minimax_discriminator():
    expected = (softplus(-2) + softplus(1)) / 2 + (softplus(0.5) + softplus(-0.5)) / 2
    assert close(MinimaxLoss().discriminator_loss(REAL, FAKE), expected)


def test_minimax_one_sided_label_smoothing():
    loss = MinimaxLoss(MinimaxConfig(real_label=0.9))
    real_term = sum(0.9 * softplus(-r) + 0.1 * softplus(r) for r in (2.0, -1.0)) / 2
    fake_term = (softplus(0.5) + softplus(-0.5)) / 2
    assert close(loss.discriminator_loss(REAL, FAKE), real_term + fake_term)


def test_minimax_non_saturating_and_saturating_generator():
    assert close(MinimaxLoss().generator_loss(FAKE), (softplus(-0.5) + softplus(0.5)) / 2)
    saturating = MinimaxLoss(MinimaxConfig(saturating=True))
    # log(1 - sigmoid(f)) = -softplus(f)
    assert close(saturating.generator_loss(FAKE), -(softplus(0.5) + softplus(-0.5)) / 2)
    # at D(G(z)) -> 0 the saturating gradient vanishes, the non-saturating one does not
    f = torch.tensor([-8.0], requires_grad=True)
    saturating.generator_loss(f).backward()
    assert abs(f.grad.item()) < 1e-3
    f.grad = None
    MinimaxLoss().generator_loss(f).backward()
    assert abs(f.grad.item()) > 0.99


def test_least_squares_default_targets():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    loss = LeastSquaresLoss()
    assert close(loss.discriminator_loss(real, fake), 0.5)  # 0.5*0.5 + 0.5*0.5
    assert close(loss.generator_loss(fake), 0.25)


def test_least_squares_custom_targets():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    loss = LeastSquaresLoss(LeastSquaresConfig(real_label=1, fake_label=-1, generator_target=0))
    assert close(loss.discriminator_loss(real, fake), 0.25 + 0.5 * (1 + 4) / 2)
    assert close(loss.generator_loss(fake), 0.25)


def test_wasserstein_with_and_without_drift():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 0.0])
    assert close(WassersteinLoss().discriminator_loss(real, fake), -2.5)
    drifted = WassersteinLoss(WassersteinConfig(drift=1e-3))
    assert close(drifted.discriminator_loss(real, fake), -2.5 + 1e-3 * 5)
    assert close(WassersteinLoss().generator_loss(fake), 0.5)


def test_hinge_margins():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.25])
    assert close(HingeLoss().discriminator_loss(real, fake), 0.25 + 0.625)
    assert close(HingeLoss(HingeConfig(margin=2)).discriminator_loss(real, fake), 0.75 + 1.125)
    assert close(HingeLoss().generator_loss(fake), 0.875)


@pytest.mark.parametrize("loss", [MinimaxLoss(), LeastSquaresLoss(), WassersteinLoss(), HingeLoss()])
def test_losses_compute_in_float32_for_low_precision_logits(loss):
    real, fake = REAL.to(torch.bfloat16), FAKE.to(torch.bfloat16)
    assert loss.discriminator_loss(real, fake).dtype == torch.float32
    assert loss.generator_loss(fake, real).dtype == torch.float32


def test_gradient_penalty_of_a_linear_critic():
    weights = torch.ones(3, 2, 2)  # |grad| = sqrt(12) everywhere

    def critic(x):
        return (x * weights).flatten(1).sum(1)

    real, fake = torch.randn(4, 3, 2, 2), torch.randn(4, 3, 2, 2)
    assert close(GradientPenalty()(critic, real, fake), 10 * (math.sqrt(12) - 1) ** 2)
    zero_centred = GradientPenalty(GradientPenaltyConfig(weight=1.0, target=0.0))
    assert close(zero_centred(critic, real, fake), 12.0)


def test_gradient_penalty_samples_interpolates_reproducibly():
    # D(x) = sum(x^2) / 2 has gradient x; between fake = 0 and real = 1 it is alpha * 1.
    def critic(x):
        return 0.5 * (x**2).flatten(1).sum(1)

    real, fake = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
    alphas = torch.rand(3, 1, 1, 1, generator=torch.Generator().manual_seed(7)).flatten().tolist()
    expected = 10 * sum((a * 2 - 1) ** 2 for a in alphas) / 3  # |grad| = alpha * sqrt(4)
    value = GradientPenalty()(critic, real, fake, generator=torch.Generator().manual_seed(7))
    assert close(value, expected)


def test_gradient_penalty_backpropagates_into_the_critic():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 1))
    penalty = GradientPenalty()(critic, torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2))
    penalty.backward()
    assert critic[1].weight.grad is not None and critic[1].weight.grad.abs().sum() > 0


def test_gradient_penalty_rejects_bad_input():
    with pytest.raises(ValueError, match="needs generated samples"):
        GradientPenalty()(lambda x: x.sum(), torch.ones(2, 1))
    with pytest.raises(ValueError, match="differ in shape"):
        GradientPenalty()(lambda x: x.sum(), torch.ones(2, 1), torch.ones(3, 1))


def test_r1_penalty_of_a_quadratic_critic():
    # D(x) = sum(x^2): grad = 2x, |grad|^2 = 4 sum(x^2): 16 for ones(4), 4 for 0.5 * ones(4)
    real = torch.stack([torch.ones(1, 2, 2), 0.5 * torch.ones(1, 2, 2)])
    value = R1Penalty()(lambda x: (x**2).flatten(1).sum(1), real)
    assert close(value, 10 / 2 * (16 + 4) / 2)
    assert close(R1Penalty(R1Config(gamma=0.0))(lambda x: (x**2).sum(), real), 0.0)


def test_r1_with_a_conditional_critic_through_a_closure():
    mask = torch.full((2, 1, 2, 2), 3.0)

    def conditional(x, condition):
        return (x * condition).flatten(1).sum(1)  # grad = condition

    real = torch.randn(2, 1, 2, 2)
    value = R1Penalty(R1Config(gamma=2.0))(lambda x: conditional(x, mask), real)
    assert close(value, 1.0 * 9 * 4)
    assert not real.requires_grad  # the caller's tensor is left alone
