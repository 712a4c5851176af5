"""StyleGAN2's presets equal NVIDIA's training configurations value by value, the EMA settings do not
overwrite each other, old model files keep their recorded values, and sampling noise follows each
sample's seed."""

from __future__ import annotations

import json

import pytest
import torch
from medgan_zoo_stylegan2.config import StyleGan2Config

import medgan_zoo as zoo
from medgan_zoo.errors import ConfigError

# NVlabs/stylegan2-ada-pytorch, train.py, setup_training_loop_kwargs(): cfg_specs['stylegan2'] =
# dict(ref_gpus=8, kimg=25000, mb=32, mbstd=4, fmaps=1, lrate=0.002, gamma=10, ema=10, ramp=None, map=8);
# channel_base = int(fmaps * 32768), channel_max = 512; Adam betas [0, 0.99], eps 1e-8, the same lr for
# G and D; training/loss.py StyleGAN2Loss: style_mixing_prob 0.9, pl_weight 2, pl_batch_shrink 2,
# pl_decay 0.01; training_loop.py: G_reg_interval 4, D_reg_interval 16; networks.py MappingNetwork:
# lr_multiplier 0.01, w_avg_beta 0.995; ADA target 0.6.
CONFIG_F = {"batch_size": 32, "mbstd_group": 4, "channel_base": 32768, "channel_max": 512, "lr": 0.002,
            "lr_d": 0.002, "r1_gamma": 10.0, "ema_kimg": 10.0, "ema_rampup": None, "mapping_layers": 8,
            "betas": (0.0, 0.99), "r1_interval": 16, "pl_weight": 2.0, "pl_interval": 4, "pl_decay": 0.01,
            "pl_batch_shrink": 2, "style_mixing": 0.9, "mapping_lr_mult": 0.01, "w_avg_beta": 0.995,
            "ada_target": 0.6, "latent_dim": 512, "w_dim": 512}


def _auto(res: int, batch: int) -> dict:
    """cfg_specs['auto'] for one GPU: mb = max(min(gpus * min(4096 // res, 32), 64), gpus),
    mbstd = min(mb // gpus, 4), fmaps = 1 if res >= 512 else 0.5, lrate = 0.002 if res >= 1024 else
    0.0025, gamma = 0.0002 * res ** 2 / mb, ema = mb * 10 / 32, ramp 0.05, map 2."""
    lr = 0.002 if res >= 1024 else 0.0025
    return {"batch_size": batch, "mbstd_group": min(batch, 4), "channel_base": 32768 if res >= 512 else 16384,
            "channel_max": 512, "lr": lr, "lr_d": lr, "r1_gamma": 0.0002 * res**2 / batch,
            "ema_kimg": batch * 10 / 32, "ema_rampup": 0.05, "mapping_layers": 2}


def _values(config: StyleGan2Config, keys) -> dict:
    return {k: getattr(config, k) for k in keys}


@pytest.mark.parametrize("resolution", [64, 128, 256])
def test_config_f_is_the_default_and_equals_nvidias_stylegan2_cfg(resolution):
    config = StyleGan2Config(resolution=resolution)
    assert config.preset == "stylegan2"
    assert _values(config, CONFIG_F) == CONFIG_F
    assert config.r1 == 10.0  # config F's gamma, not the auto heuristic (0.1024 at 128x128)


@pytest.mark.parametrize(("resolution", "batch"), [(64, 32), (128, 32), (256, 16), (512, 8), (1024, 4)])
def test_auto_preset_equals_nvidias_auto_cfg(resolution, batch):
    config = StyleGan2Config(resolution=resolution, preset="auto")
    expected = _auto(resolution, batch)
    assert _values(config, expected) == expected
    assert config.ema_decay == pytest.approx(0.5 ** (batch / (1000 * batch * 10 / 32)))


def test_auto_with_a_given_batch_replaces_only_the_batch():
    """NVlabs/stylegan2-ada-pytorch train.py, setup_training_loop_kwargs(): cfg 'auto' derives spec.mb, then
    gamma = 0.0002 * res ** 2 / spec.mb, ema = spec.mb * 10 / 32, mbstd = min(spec.mb // gpus, 4); --batch
    then sets args.batch_size (and batch_gpu) only."""
    config = StyleGan2Config(resolution=32, preset="auto", batch_size=8)
    assert config.batch_size == 8 and config.mbstd_group == 4
    assert config.r1_gamma == pytest.approx(0.0064) and config.ema_kimg == pytest.approx(10.0)  # auto's mb 32
    assert config.ema_decay == pytest.approx(0.5 ** (8 / 10_000))  # the half-life in images, steps of 8
    config = StyleGan2Config(resolution=128, preset="auto", batch_size=8, mapping_layers=4)
    assert config.mapping_layers == 4 and config.channel_base == 16384
    assert config.r1_gamma == pytest.approx(0.0002 * 128**2 / 32)
    assert StyleGan2Config(resolution=128, r1_gamma=1.0).r1_gamma == 1.0


@pytest.mark.parametrize(("world", "resolution", "mb", "mbstd"), [(2, 64, 64, 4), (4, 256, 64, 4), (8, 1024, 32, 4),
                                                                  (4, 64, 64, 4), (64, 1024, 64, 1)])
def test_auto_under_torchrun_takes_the_world_size_as_nvidias_gpus(monkeypatch, world, resolution, mb, mbstd):
    """train.py: spec.mb = max(min(gpus * min(4096 // res, 32), 64), gpus) with --gpus the process count."""
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", str(world))
    config = StyleGan2Config(resolution=resolution, preset="auto")
    assert (config.gpus, config.batch_size, config.mbstd_group) == (world, mb, mbstd)
    assert config.r1_gamma == pytest.approx(0.0002 * resolution**2 / mb) and config.ema_kimg == pytest.approx(mb / 3.2)
    recorded = StyleGan2Config.model_validate(config.model_dump())
    monkeypatch.delenv("WORLD_SIZE")  # a recorded config keeps its GPU count on one process
    assert recorded == StyleGan2Config.model_validate(config.model_dump())
    assert StyleGan2Config(resolution=resolution, preset="auto", gpus=1).batch_size == min(4096 // resolution, 32)


def test_ema_decay_given_alone_turns_the_preset_half_life_off_and_both_must_agree():
    config = StyleGan2Config(resolution=32, ema_decay=0.99)
    assert config.ema_kimg is None and config.ema_decay == 0.99
    with pytest.raises(ConfigError, match="ema_decay=0.99 and ema_kimg=5.0.*disagree"):
        zoo.create_gan("stylegan2", resolution=32, ema_decay=0.99, ema_kimg=5.0)
    saved = StyleGan2Config(resolution=32, ema_kimg=5.0).model_dump()  # consistent values reload
    assert StyleGan2Config.model_validate(saved) == StyleGan2Config(resolution=32, ema_kimg=5.0)


def test_a_model_file_of_0_1_0_keeps_its_recorded_values():
    # 0.1.0 wrote every field, with no preset: R1 None (the heuristic), EMA ramp-up 0.05
    old = StyleGan2Config(resolution=128, r1_gamma=None, ema_rampup=0.05).model_dump()
    old.pop("preset")
    config = StyleGan2Config.model_validate(old)
    assert config.preset is None and config.r1_gamma is None and config.ema_rampup == 0.05
    assert config.r1 == pytest.approx(0.0002 * 128**2 / 32)


def test_the_run_records_the_preset_and_every_value(tmp_path):
    out = tmp_path / "run"
    zoo.train("stylegan2", "acdc-phantom", out=out, resolution=16, steps=1, progress=False,
              dataset_config={"train_subjects": 1, "test_subjects": 1},
              gan_config={"channel_base": 64, "channel_max": 8, "latent_dim": 8, "w_dim": 8, "batch_size": 2})
    recorded = json.loads((out / "config.json").read_text())["gan_config"]
    assert recorded["preset"] == "stylegan2" and recorded["r1_gamma"] == 10.0 and recorded["mapping_layers"] == 8
    assert recorded["batch_size"] == 2 and recorded["ema_rampup"] is None


@pytest.fixture(scope="module")
def model():
    gan = zoo.create_gan("stylegan2", resolution=16, channel_base=64, channel_max=8, latent_dim=8, w_dim=8,
                         mapping_layers=2, num_classes=2, with_discriminator=False)
    with torch.no_grad():
        for layer in gan.generator.modules():
            if hasattr(layer, "noise_strength"):
                layer.noise_strength.fill_(0.5)  # trained generators use their noise; fresh ones start at 0
    gan.generator_ema.load_state_dict(gan.generator.state_dict())
    from medgan_zoo.model import GanModel, ModelInfo

    info = ModelInfo(gan="stylegan2", plugin_distribution="medgan-zoo-stylegan2", plugin_version="0",
                     gan_config=gan.config.model_dump(mode="json"), dataset="acdc-phantom",
                     label_map={0: "background", 1: "organ"}, resolution=16, image_channels=1)
    return GanModel(gan, info, torch.device("cpu"))


def test_samples_use_random_noise_drawn_from_each_samples_seed(model):
    noisy = model.sample(6, seed=4)
    assert torch.equal(noisy.images, model.sample(6, seed=4, batch_size=2).images)  # not the batch size
    assert torch.equal(noisy.images[:3], model.sample(3, seed=4).images)  # nor n
    const = model.sample(6, seed=4, noise="const")
    assert not torch.allclose(noisy.images, const.images, atol=1e-3)
    mean = model.sample(6, seed=4, truncation=0.0)  # one w for all: only the noise tells them apart
    assert (mean.images - mean.images[:1]).abs().flatten(1).amax(1)[1:].min() > 1e-3
    assert torch.equal(model.sample(6, seed=4, truncation=0.0, noise="const").images.diff(dim=0).abs().amax(),
                       torch.tensor(0.0))


def test_noise_maps_depend_on_the_seed_alone(model):
    seeds = torch.tensor([11, 12, 13], dtype=torch.int64)
    together = model.gan.noise_maps(seeds, torch.device("cpu"))
    alone = model.gan.noise_maps(seeds[1:2], torch.device("cpu"))
    assert [m.shape[-1] for m in together] == model.gan.generator.synthesis.noise_resolutions
    assert all(torch.equal(a[0], b[1]) for a, b in zip(alone, together, strict=True))


def test_unknown_noise_mode_is_refused(model):
    with pytest.raises(ValueError, match="noise must be 'random' or 'const', got 'fixed'"):
        model.sample(2, seed=0, noise="fixed")


def test_the_adversarial_loss_is_the_registered_minimax_as_nvidia_has_it():
    """NVlabs/stylegan2-ada-pytorch training/loss.py, StyleGAN2Loss: Dmain minimises
    softplus(D(G(z))) + softplus(-D(x)), Gmain minimises softplus(-D(G(z))) (non-saturating)."""
    import torch.nn.functional as F

    from medgan_zoo.losses.adversarial import MinimaxLoss

    gan = zoo.create_gan("stylegan2", resolution=32, channel_base=256, channel_max=16, latent_dim=8, w_dim=8,
                         mapping_layers=1)
    assert isinstance(gan.adversarial, MinimaxLoss) and gan.adversarial.config.real_label == 1.0
    real, fake = torch.randn(16, 1) * 3, torch.randn(16, 1) * 3
    nvidia_d = F.softplus(fake).mean() + F.softplus(-real).mean()
    assert torch.allclose(gan.adversarial.discriminator_loss(real, fake), nvidia_d, atol=1e-6)
    assert torch.allclose(gan.adversarial.generator_loss(fake), F.softplus(-fake).mean(), atol=1e-7)
