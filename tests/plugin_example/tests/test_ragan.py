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


@pytest.fixture
def everything(registry):
    """medgan-zoo's own plugins and this one, as the process-wide registry."""
    from medgan_zoo.registry import use_registry

    source = PluginSource.of(medgan_zoo_ragan, "medgan-zoo-ragan", "0.1.0")
    with use_registry(Registry.load([source], builtins=True)) as loaded:
        yield loaded


def test_the_rings_split_by_subject_and_repeat(everything):
    import medgan_zoo as zoo

    train = zoo.load_dataset("rings-phantom", resolution=32, cache=False)
    test = zoo.load_dataset("rings-phantom", split="test", resolution=32, cache=False)
    assert len(train) == 12 * 6 and not set(train.subject_ids) & set(test.subject_ids)
    item = train[0]
    assert item["image"].shape == (1, 32, 32) and item["mask"].max() == 2
    again = zoo.load_dataset("rings-phantom", resolution=32, cache=False)
    assert torch.equal(train.images, again.images)


def test_the_gan_trains_with_the_loss_and_the_metric_gets_a_study_column(everything, tmp_path):
    import medgan_zoo as zoo
    from medgan_zoo_ragan.loss import RelativisticAverageLoss

    gan = zoo.create_gan("ragan-dcgan", resolution=32)
    assert isinstance(gan.loss, RelativisticAverageLoss)
    tiny = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}
    zoo.train("ragan-dcgan", "rings-phantom", out=tmp_path / "ragan-dcgan-rings-phantom", resolution=32,
              steps=2, gan_config=tiny, progress=False)
    zoo.study(["ragan-dcgan"], ["rings-phantom"], tmp_path, n=16, metrics=["class-gap"], progress=False,
              report=False)
    assert "| class gap (↓) |" in (tmp_path / "table2.md").read_text()
