"""The DCGAN family: shapes, Table 1 knobs, and each loss wired as the paper says."""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

from medgan_zoo import ConfigError, UnknownNameError, create_gan
from medgan_zoo.errors import MedganZooError
from medgan_zoo.gans.base import StepContext, joint_from_pairs

FAMILY = ["dcgan", "lsgan", "wgan", "wgan-gp", "hingegan"]
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 16}


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
@pytest.mark.parametrize(("image_channels", "num_classes"), [(1, 4), (3, 2), (1, 0)])
def test_shapes_for_every_gan_resolution_and_channel_count(name, resolution, image_channels, num_classes):
    gan = create_gan(name, resolution=resolution, image_channels=image_channels, num_classes=num_classes,
                     **TINY)
    out = gan.generator(torch.randn(2, 16))
    assert out.shape == (2, image_channels + num_classes, resolution, resolution)
    assert out.abs().max() <= 1
    assert gan.discriminator(out).shape == (2,)
    images, masks = gan.to_pairs(out)
    assert images.shape == (2, image_channels, resolution, resolution)
    assert masks.shape == (2, resolution, resolution) and masks.dtype == torch.uint8
    assert int(masks.max()) < max(num_classes, 1)


def test_bad_gan_requests_are_clear():
    with pytest.raises(UnknownNameError, match="did you mean 'wgan-gp'"):
        create_gan("wgan-pg")
    with pytest.raises(ConfigError, match="supports resolutions \\[32, 64, 128, 256\\], not 48"):
        create_gan("dcgan", resolution=48)
    with pytest.raises(ConfigError, match="field 'g_activation'"):
        create_gan("dcgan", g_activation="tanh")
    with pytest.raises(ConfigError, match="unknown key 'clip_valu'"):
        create_gan("wgan", clip_valu=0.1)
    with pytest.raises(ConfigError, match="unknown key 'clip_value'"):  # WGAN's knob is not DCGAN's
        create_gan("dcgan", clip_value=0.1)


def test_table1_knobs_reach_the_networks():
    gan = create_gan("dcgan", resolution=32, g_norm="instance", d_norm="batch", g_activation="elu",
                     d_activation="selu", d_spectral_norm=True, g_filters=16, d_filters=32)
    g_types = {type(m) for m in gan.generator.modules()}
    d_types = {type(m) for m in gan.discriminator.modules()}
    assert nn.InstanceNorm2d in g_types and nn.BatchNorm2d not in g_types and nn.ELU in g_types
    assert nn.BatchNorm2d in d_types and nn.SELU in d_types
    convs = [m for m in gan.discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert all(hasattr(m, "parametrizations") for m in convs)  # spectral norm everywhere in D
    assert convs[0].out_channels == 32
    assert not any(hasattr(m, "parametrizations") for m in gan.generator.modules())
    assert create_gan("hingegan", resolution=32).config.d_spectral_norm  # HingeGAN's default


@pytest.mark.parametrize(("scheme", "check"), [
    ("normal", lambda w: abs(w.std().item() - 0.02) < 0.004),
    ("xavier", lambda w: w.std().item() < 0.01),
    ("kaiming", lambda w: w.std().item() > 0.03),
])
def test_weight_initialisation(scheme, check):
    torch.manual_seed(0)
    gan = create_gan("dcgan", resolution=64, init=scheme)
    weight = gan.discriminator.features[2].weight
    assert check(weight)


def _context(gan, batch, diffaugment=None) -> StepContext:
    rng = torch.Generator().manual_seed(0)
    augment = (lambda x: x) if diffaugment is None else (lambda x: diffaugment(x, rng))
    return StepContext(batch=lambda: batch, rng=rng, device=torch.device("cpu"),
                       autocast=contextlib.nullcontext, diffaugment=augment)


def _real(gan, n=4) -> torch.Tensor:
    c = gan.config
    images = torch.rand(n, c.image_channels, c.resolution, c.resolution) * 2 - 1
    masks = torch.randint(0, c.num_classes, (n, c.resolution, c.resolution))
    return joint_from_pairs(images, masks, c.num_classes)


def test_wgan_clips_critic_weights():
    gan = create_gan("wgan", resolution=32, batch_size=4, clip_value=0.005, n_critic=2, **TINY)
    gan.configure_optimizers()
    gan.train_step(_context(gan, _real(gan)))
    values = torch.cat([p.detach().flatten() for p in gan.discriminator.parameters()])
    assert values.abs().max() <= 0.005 + 1e-9
    assert (values.abs() > 0.004).any()  # clipping, not zeroing


def test_wgan_gp_penalises_the_critic():
    torch.manual_seed(0)
    gan = create_gan("wgan-gp", resolution=32, batch_size=4, n_critic=1, **TINY)
    gan.configure_optimizers()
    logs = gan.train_step(_context(gan, _real(gan)))
    assert logs["gp"] > 0
    torch.manual_seed(0)
    free = create_gan("wgan-gp", resolution=32, batch_size=4, n_critic=1, gp_weight=0.0, **TINY)
    free.configure_optimizers()
    free_logs = free.train_step(_context(free, _real(free)))
    assert torch.isclose(logs["loss_d"] - logs["gp"], free_logs["loss_d"], atol=1e-5)


def test_wgan_clip_value_zero_means_no_clipping():
    gan = create_gan("wgan", resolution=32, batch_size=4, clip_value=0, n_critic=1, **TINY)  # Table 1: 0 / 0.01 / 0.1
    assert gan.clip_value is None
    gan.configure_optimizers()
    gan.train_step(_context(gan, _real(gan)))
    values = torch.cat([p.detach().flatten() for p in gan.discriminator.parameters()])
    assert values.abs().max() > 0.02  # N(0, 0.02) weights, left as they are


def test_wgan_gp_penalises_the_critic_on_the_augmented_inputs_it_is_trained_on():
    from medgan_zoo.training.augment import DiffAugment

    torch.manual_seed(0)
    gan = create_gan("wgan-gp", resolution=32, batch_size=4, n_critic=1, diffaugment=["translation", "cutout"],
                     **TINY)
    gan.configure_optimizers()
    seen: list[torch.Tensor] = []
    gan.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    calls = []
    penalty = gan.penalty

    def spy(discriminator, real, fake=None, generator=None, alpha=None):
        calls.append((real.detach().clone(), fake.detach().clone()))
        return penalty(discriminator, real, fake, generator=generator, alpha=alpha)

    gan.penalty = spy
    real = _real(gan)
    gan.train_step(_context(gan, real, DiffAugment(("translation", "cutout"), gan.config.image_channels)))
    (gp_real, gp_fake), = calls
    assert torch.equal(gp_real, seen[0]) and torch.equal(gp_fake, seen[1])  # the critic's own inputs
    assert not torch.equal(gp_real, real)  # ... which are augmented


def test_each_gan_uses_its_loss():
    from medgan_zoo.losses.adversarial import HingeLoss, LeastSquaresLoss, MinimaxLoss, WassersteinLoss

    expected = {"dcgan": MinimaxLoss, "lsgan": LeastSquaresLoss, "wgan": WassersteinLoss,
                "wgan-gp": WassersteinLoss, "hingegan": HingeLoss}
    for name, loss_type in expected.items():
        assert type(create_gan(name, resolution=32, **TINY).loss) is loss_type
    assert create_gan("dcgan", resolution=32, label_smoothing=0.1).loss.config.real_label == 0.9
    assert create_gan("lsgan", resolution=32, label_smoothing=0.2).loss.config.real_label == 0.8


def test_training_step_updates_both_networks_and_logs_without_sync():
    gan = create_gan("dcgan", resolution=32, batch_size=4, feature_matching_weight=1.0, **TINY)
    gan.configure_optimizers()
    before_g = [p.detach().clone() for p in gan.generator.parameters()]
    before_d = [p.detach().clone() for p in gan.discriminator.parameters()]
    logs = gan.train_step(_context(gan, _real(gan)))
    assert {"loss_d", "loss_g", "feature_matching"} <= set(logs)
    assert all(torch.is_tensor(v) and not v.requires_grad for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(before_g, gan.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, gan.discriminator.parameters()))


def test_vgg_loss_needs_weights_and_uses_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    gan = create_gan("dcgan", resolution=32, batch_size=2, vgg_weight=1.0, **TINY)
    with pytest.raises(MedganZooError, match="vgg19-dcbb9e9d.pth"):
        gan.prepare_training()
    # a stand-in VGG-19 state dict with random weights, made here (no download)
    from torchvision.models import vgg19

    weights = tmp_path / "vgg19.pth"
    layers = vgg19(weights=None).features[:12]
    torch.save({f"features.{k}": v for k, v in layers.state_dict().items()}, weights)
    gan = create_gan("dcgan", resolution=32, batch_size=2, vgg_weight=1.0, vgg_weights=str(weights), **TINY)
    gan.configure_optimizers()
    gan.prepare_training()
    logs = gan.train_step(_context(gan, _real(gan, 2)))
    assert logs["vgg"] > 0


def test_joint_representation_round_trip():
    images = torch.rand(3, 1, 8, 8) * 2 - 1
    masks = torch.randint(0, 4, (3, 8, 8))
    joint = joint_from_pairs(images, masks, 4)
    assert joint.shape == (3, 5, 8, 8) and set(joint[:, 1:].unique().tolist()) == {-1.0, 1.0}
    gan = create_gan("dcgan", resolution=32)
    back_images, back_masks = gan.to_pairs(joint)
    assert torch.equal(back_images, images) and torch.equal(back_masks, masks.to(torch.uint8))
