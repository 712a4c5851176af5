"""SPADE plugin: normalisation, networks, losses, conditioning, mask sources, training, round trip."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from medgan_zoo_spade.config import SpadeConfig
from medgan_zoo_spade.networks import MultiscaleDiscriminator, Spade, SpadeGenerator, SpadeResBlock

import medgan_zoo as zoo

# The 0.1.0 layout at small widths (no VGG weights needed); tests/test_presets.py covers the paper preset.
TINY = {"preset": "pyramid", "filters": 8, "d_filters": 8, "latent_dim": 16, "spade_hidden": 16, "mask_filters": 8,
        "mask_latent_dim": 8, "batch_size": 4}
DATA = {"train_subjects": 2, "test_subjects": 1}


def test_spade_is_installed_through_its_entry_point():
    spec = zoo.get_registry().gans["spade"]
    assert spec.origin.distribution == "medgan-zoo-spade" and spec.conditional


def test_spade_normalisation_against_a_hand_built_reference():
    torch.manual_seed(0)
    layer = Spade(channels=3, label_channels=2, hidden=4, norm="instance")
    x = torch.randn(2, 3, 8, 8)
    segmap = F.one_hot(torch.randint(0, 2, (2, 4, 4)), 2).permute(0, 3, 1, 2).float()
    up = segmap.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # nearest 4x4 -> 8x8 by hand
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    normalised = (x - mean) / torch.sqrt(var + 1e-5)
    hidden = F.relu(F.conv2d(up, layer.shared[0].weight, layer.shared[0].bias, padding=1))
    w_gamma, w_beta = layer.gamma_beta.weight.chunk(2)
    b_gamma, b_beta = layer.gamma_beta.bias.chunk(2)
    gamma = F.conv2d(hidden, w_gamma, b_gamma, padding=1)
    beta = F.conv2d(hidden, w_beta, b_beta, padding=1)
    assert torch.allclose(layer(x, segmap), normalised * (1 + gamma) + beta, atol=1e-5)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_residual_block_with_fused_mask_convolutions_equals_separate_spade_layers(norm):
    torch.manual_seed(0)
    config = SpadeConfig(resolution=32, spade_hidden=8, norm=norm, g_spectral_norm=False)
    block = SpadeResBlock(6, 4, config, label_channels=3)
    x = torch.randn(3, 6, 8, 8)
    segmap = F.one_hot(torch.randint(0, 3, (3, 16, 16)), 3).permute(0, 3, 1, 2).float()
    # SPADE's shortcut normalises x on its own; with the same statistics that is norm_0's result
    shortcut = block.conv_s(block.norm_s(block.norm_0.norm(x), segmap))
    dx = block.conv_0(F.leaky_relu(block.norm_0(x, segmap), 0.2))
    dx = block.conv_1(F.leaky_relu(block.norm_1(dx, segmap), 0.2))
    assert torch.allclose(block(x, segmap), shortcut + dx, atol=1e-5)


def test_explicit_widths_and_a_wrong_count_is_refused():
    config = SpadeConfig(resolution=64, full_resolution_block=False, widths=[64, 32, 16, 8], **{
        k: v for k, v in TINY.items() if k != "filters"})
    generator = SpadeGenerator(config)
    assert [b.conv_1.out_channels for b in [generator.first, *generator.blocks]] == [64, 32, 16, 8]
    with pytest.raises(ValueError, match="widths needs 5 entries at 64x64"):
        SpadeGenerator(config.model_copy(update={"full_resolution_block": True}))
    with pytest.raises(zoo.ConfigError, match="widths"):
        zoo.create_gan("spade", resolution=64, preset="pyramid", widths=[64, 0, 16, 8])


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
@pytest.mark.parametrize(("channels", "classes", "full", "preset"),
                         [(1, 4, False, "pyramid"), (3, 2, True, "pyramid"), (1, 4, True, "paper")])
def test_shapes(resolution, channels, classes, full, preset):
    config = SpadeConfig(resolution=resolution, image_channels=channels, num_classes=classes,
                         full_resolution_block=full, **{**TINY, "preset": preset})
    masks = F.one_hot(torch.randint(0, classes, (2, resolution, resolution)), classes).permute(0, 3, 1, 2).float()
    generator = SpadeGenerator(config)
    image = generator(masks, torch.randn(2, 16))
    assert image.shape == (2, channels, resolution, resolution) and image.abs().max() <= 1
    pyramid_blocks = int(math.log2(resolution)) - 2 - (0 if full else 1)
    assert len(generator.blocks) == (6 if preset == "paper" else pyramid_blocks)
    outputs = MultiscaleDiscriminator(config)(torch.cat([image, masks], 1))
    assert len(outputs) == 2 and len(outputs[0]) == config.d_layers + 1
    assert outputs[1][-1].shape[-1] < outputs[0][-1].shape[-1]  # the second scale sees half the size


def test_bad_resolution_and_masks_are_refused():
    with pytest.raises(zoo.ConfigError, match="not 48"):
        zoo.create_gan("spade", resolution=48)
    gan = zoo.create_gan("spade", resolution=32, with_discriminator=False, **TINY)
    z = torch.randn(2, gan.latent_dim)
    with pytest.raises(ValueError, match="0..3"):
        gan.generate(z, masks=torch.full((2, 32, 32), 4))
    with pytest.raises(ValueError, match="16x16 but this model generates 32x32"):
        gan.generate(z, masks=torch.zeros(2, 16, 16, dtype=torch.long))
    with pytest.raises(ValueError, match=r"label maps \[N,H,W\]"):
        gan.generate(z, masks=torch.zeros(32, 32, dtype=torch.long))
    none = zoo.create_gan("spade", resolution=32, with_discriminator=False, mask_source="none", **TINY)
    with pytest.raises(ValueError, match="no mask source"):
        none.generate(torch.randn(2, none.latent_dim))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("spade") / "run"
    zoo.train("spade", "acdc-phantom", out=out, resolution=32, steps=4, dataset_config=DATA,
              gan_config={**TINY, "ema": True}, progress=False, log_every=2, checkpoint_every=2)
    return out


def test_training_logs_every_term_and_the_mask_generator(trained):
    import csv

    row = list(csv.DictReader((trained / "metrics.csv").open()))[-1]
    assert {"loss_d", "loss_g", "adversarial", "feature_matching", "mask_loss_d", "mask_loss_g"} <= set(row)
    assert float(row["feature_matching"]) > 0


def test_conditioning_matters(trained):
    model = zoo.load(trained)
    base = model.sample(4, seed=1)
    same = model.sample(4, seed=1, masks=base.masks)
    assert torch.equal(same.images, base.images) and torch.equal(same.masks, base.masks)  # mask + seed -> image
    other_seed = model.sample(4, seed=2, masks=base.masks)
    assert torch.equal(other_seed.masks, base.masks) and not torch.equal(other_seed.images, base.images)
    other_masks = model.sample(4, seed=1, masks=base.masks.flip(0))
    assert not torch.equal(other_masks.images, base.images)
    with pytest.raises(ValueError, match="3 values for n=4"):
        model.sample(4, masks=base.masks[:3])


def test_mask_generator_samples_only_valid_labels_and_round_trips(trained, tmp_path):
    model = zoo.load(trained)
    samples = model.sample(40, seed=0)
    assert int(samples.masks.max()) <= 3 and samples.masks.dtype == torch.uint8
    exported = model.save_pretrained(tmp_path / "export")
    again = zoo.load(exported).sample(40, seed=0)
    assert torch.equal(again.images, samples.images) and torch.equal(again.masks, samples.masks)
    assert "mask_source" in (exported / "README.md").read_text()


def test_mask_bank_round_trip(tmp_path):
    out = tmp_path / "bank"
    zoo.train("spade", "acdc-phantom", out=out, resolution=32, steps=1, dataset_config=DATA,
              gan_config={**TINY, "mask_source": "bank", "ema": True}, progress=False)
    model = zoo.load(out)  # with EMA the bank is in both generators (a checkpoint takes no shared tensor)
    real = zoo.load_dataset("acdc-phantom", resolution=32, **DATA)
    assert model.gan.generator.mask_source.bank.shape == real.masks.shape
    assert torch.equal(model.gan.generator_ema.mask_source.bank, model.gan.generator.mask_source.bank)
    samples = model.sample(8, seed=0)
    assert set(samples.masks.unique().tolist()) <= {0, 1, 2, 3}
    assert torch.equal(zoo.load(out).sample(8, seed=0).masks, samples.masks)


def test_vae_mode_trains_and_logs_kl(tmp_path):
    result = zoo.train("spade", "acdc-phantom", out=tmp_path / "vae", resolution=32, steps=2, dataset_config=DATA,
                       gan_config={**TINY, "vae": True, "mask_source": "none"}, progress=False, log_every=1)
    assert result.last_metrics["kl"] > 0
