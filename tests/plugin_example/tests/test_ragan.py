import math

import pytest
import torch

import medgan_zoo_ragan
from medgan_zoo import ConfigError
from medgan_zoo.registry import PluginSource, Registry


@pytest.fixture
def registry():
    source = PluginSource.of(medgan_zoo_ragan, "medgan-zoo-ragan", "0.1.0")
    return Registry.load([source])


def test_registers_without_problems(registry):
    assert registry.problems == ()
    assert registry.losses["ragan"].role == "adversarial"


def test_equal_scores_cost_log_2_per_term(registry):
    loss = registry.losses["ragan"].create()
    zeros = torch.zeros(8)
    assert math.isclose(loss.discriminator_loss(zeros, zeros).item(), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(loss.generator_loss(zeros, zeros).item(), 2 * math.log(2), rel_tol=1e-6)


def test_rejects_an_unknown_config_key(registry):
    with pytest.raises(ConfigError, match="real_lable"):
        registry.losses["ragan"].create(real_lable=0.9)
