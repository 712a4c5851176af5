"""A third-party GAN with its own training step and sampling option goes through the same engine,
sampling and loading as the built-ins (docs/gan-plugins.md)."""

from __future__ import annotations

import types

import pytest
import torch
from pydantic import Field
from torch import nn

import medgan_zoo as zoo
from medgan_zoo import GanSpec, hookimpl, use_registry
from medgan_zoo.gans.base import GAN
from medgan_zoo.gans.config import GanConfig
from medgan_zoo.losses.adversarial import HingeLoss
from medgan_zoo.registry import PluginSource, Registry, entry_point_sources


class TinyConfig(GanConfig):
    lr: float = Field(default=1e-3, gt=0, description="Learning rate.")


class TinyGAN(GAN):
    def __init__(self, config: TinyConfig, with_discriminator: bool = True):
        super().__init__(config, with_discriminator)
        size = self.output_channels * config.resolution**2
        self.generator = nn.Sequential(nn.Linear(config.latent_dim, size), nn.Tanh(),
                                       nn.Unflatten(1, (self.output_channels, config.resolution, config.resolution)))
        if with_discriminator:
            self.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(size, 1), nn.Flatten(0))
        self.enable_ema()
        self.loss = HingeLoss()
        self.steps_taken = 0

    def generate(self, z, generator=None, temperature: float = 1.0):
        return (generator or self.generator)(z * temperature)

    def configure_optimizers(self):
        self.optimizers = {
            "g": torch.optim.Adam(self.generator.parameters(), lr=self.config.lr),
            "d": torch.optim.Adam(self.discriminator.parameters(), lr=self.config.lr),
        }
        return self.optimizers

    def train_step(self, ctx):
        self.steps_taken += 1
        real = ctx.batch()
        fake = self.generator(ctx.randn(len(real), self.config.latent_dim))
        loss_d = self.loss.discriminator_loss(self.discriminator(ctx.diffaugment(real)),
                                              self.discriminator(ctx.diffaugment(fake.detach())))
        self.optimizers["d"].zero_grad()
        loss_d.backward()
        self.optimizers["d"].step()
        loss_g = self.loss.generator_loss(self.discriminator(ctx.diffaugment(fake)))
        self.optimizers["g"].zero_grad()
        loss_g.backward()
        self.optimizers["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}


def create_tiny(config, with_discriminator=True):
    return TinyGAN(config, with_discriminator)


@hookimpl
def register_gans(register):
    register(GanSpec(name="tiny-gan", summary="A linear GAN for tests.", config=TinyConfig,
                     factory=create_tiny, resolutions=(32,)))


@pytest.fixture
def registry():
    builtins, _ = entry_point_sources()
    plugin = types.ModuleType("medgan_zoo_tiny")
    plugin.register_gans = register_gans
    registry = Registry.load([*[s for s in builtins if s.builtin],
                              PluginSource.of(plugin, "medgan-zoo-tiny", "0.3")])
    with use_registry(registry):
        yield registry


def test_third_party_gan_trains_samples_and_loads(registry, tmp_path):
    result = zoo.train("tiny-gan", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=4,
                       dataset_config={"train_subjects": 2, "test_subjects": 1},
                       gan_config={"batch_size": 4, "latent_dim": 8, "ema": True}, progress=False,
                       log_every=2, checkpoint_every=2)
    model = result.load()
    assert model.info.plugin_distribution == "medgan-zoo-tiny" and model.info.plugin_version == "0.3"
    samples = model.sample(5, seed=1)
    assert samples.images.shape == (5, 1, 32, 32) and samples.masks.max() <= 3
    colder = model.sample(5, seed=1, temperature=0.0)  # the plugin's own sampling option
    assert torch.allclose(colder.images, colder.images[:1].expand_as(colder.images))
    assert not torch.equal(colder.images, samples.images)
    with pytest.raises(TypeError):
        model.sample(2, truncation=0.5)


def test_third_party_gan_resumes_exactly(registry, tmp_path):
    settings = dict(resolution=32, dataset_config={"train_subjects": 2, "test_subjects": 1},
                    gan_config={"batch_size": 4, "latent_dim": 8}, progress=False, checkpoint_every=2)
    zoo.train("tiny-gan", "acdc-phantom", out=tmp_path / "whole", steps=4, **settings)
    zoo.train("tiny-gan", "acdc-phantom", out=tmp_path / "part", steps=2, **settings)
    zoo.train("tiny-gan", "acdc-phantom", out=tmp_path / "part", steps=4, resume=True, **settings)
    a, b = zoo.load(tmp_path / "whole"), zoo.load(tmp_path / "part")
    assert torch.equal(a.sample(3, seed=0).images, b.sample(3, seed=0).images)
