"""SPADE's `paper` preset equals NVlabs/SPADE value by value (generator layout and widths, SPADE
hidden width, discriminator, losses, optimiser); the other presets; 0.1.0 models keep their values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from medgan_zoo_spade.config import SpadeConfig
from medgan_zoo_spade.networks import MultiscaleDiscriminator, SpadeGenerator
from torch import nn

import medgan_zoo as zoo

SMALL = {"mask_filters": 8, "mask_latent_dim": 8, "batch_size": 2}


def test_paper_preset_equals_the_official_options():
    # NVlabs/SPADE options/base_options.py + train_options.py defaults and models/pix2pix_model.py:
    # --ngf 64, --ndf 64, --num_D 2, --n_layers_D 4, --lambda_feat 10, --lambda_vgg 10 (VGG loss on),
    # norm_G 'spectralspadesyncbatch3x3' (spectral norm, batch norm, 3x3 SPADE), nhidden 128 (SPADE's
    # mlp_shared), TTUR: lr 0.0002 -> G 0.0001, D 0.0004, betas (0, 0.9); no VAE: the mask is the input.
    c = SpadeConfig(resolution=256)
    assert c.preset == "paper" and c.layout == "official" and c.input == "mask" and not c.vae
    assert (c.filters, c.d_filters, c.d_scales, c.d_layers) == (64, 64, 2, 4)
    assert (c.feature_matching_weight, c.vgg_weight, c.vgg_layers) == (10.0, 10.0, "spade")
    assert (c.spade_hidden, c.norm, c.g_spectral_norm, c.d_first_spectral_norm) == (128, "batch", True, False)
    assert (c.lr, c.lr_d, c.betas) == (1e-4, 4e-4, (0.0, 0.9))


def test_official_generator_layout():
    # models/networks/generator.py, num_upsampling_layers='normal': sw = crop_size / 2^5; fc: 3x3 conv
    # semantic_nc -> 16 ngf on the downsampled mask; head_0 16->16 ngf; up; G_middle_0 and G_middle_1
    # 16->16; up; up_0 16->8; up; up_1 8->4; up; up_2 4->2; up; up_3 2->1; conv_img 3x3 after leaky ReLU.
    c = SpadeConfig(resolution=128, filters=8, num_classes=3)
    g = SpadeGenerator(c)
    blocks = [g.first, *g.blocks]
    assert [(b.conv_0.in_channels, b.conv_1.out_channels) for b in blocks] == [
        (128, 128), (128, 128), (128, 128), (128, 64), (64, 32), (32, 16), (16, 8)]
    assert isinstance(g.head, nn.Conv2d) and (g.head.in_channels, g.head.kernel_size) == (3, (3, 3))
    sizes = []
    for block in blocks:
        block.register_forward_hook(lambda m, args, out: sizes.append(out.shape[-1]))
    masks = F.one_hot(torch.randint(0, 3, (1, 128, 128)), 3).permute(0, 3, 1, 2).float()
    assert g(masks, torch.randn(1, c.latent_dim)).shape == (1, 1, 128, 128)
    assert sizes == [4, 8, 8, 16, 32, 64, 128]


def _official_parameters(ngf: int, classes: int, channels: int, hidden: int = 128) -> int:
    """Parameters of NVlabs's SPADEGenerator counted from its definition (3x3 convolutions with bias;
    conv_s 1x1 without bias; each SPADE: mlp_shared, mlp_gamma, mlp_beta)."""
    def conv(cin, cout, k=3, bias=True):
        return cin * cout * k * k + (cout if bias else 0)

    def spade(norm_nc):
        return conv(classes, hidden) + 2 * conv(hidden, norm_nc)

    def block(fin, fout):
        mid = min(fin, fout)
        total = conv(fin, mid) + conv(mid, fout) + spade(fin) + spade(mid)
        return total + (conv(fin, fout, 1, bias=False) + spade(fin) if fin != fout else 0)

    widths = [16, 16, 16, 16, 8, 4, 2, 1]  # the first map, head_0, G_middle_0/1, up_0 ... up_3
    total = conv(classes, 16 * ngf) + conv(ngf, channels)
    return total + sum(block(widths[i] * ngf, widths[i + 1] * ngf) for i in range(7))


def test_official_generator_has_the_official_parameter_count():
    c = SpadeConfig(resolution=128, num_classes=4)
    ours = sum(p.numel() for p in SpadeGenerator(c).parameters())
    assert ours == _official_parameters(64, 4, 1)
    assert round(ours / 1e6, 1) == 92.1


def test_official_discriminator():
    # models/networks/discriminator.py NLayerDiscriminator with norm_D 'spectralinstance': first conv
    # plain with LeakyReLU; then spectral norm + InstanceNorm (affine off, conv bias removed), stride 1
    # at the last; a plain 1-channel conv; kernel 4, padding 2; widths min(2 nf, 512).
    c = SpadeConfig(resolution=64, d_filters=8, num_classes=3)
    D = MultiscaleDiscriminator(c)
    layers = [block[0] for block in D.scales[0].blocks]
    assert not hasattr(layers[0], "parametrizations") and layers[0].bias is not None
    assert all(hasattr(m, "parametrizations") and m.bias is None for m in layers[1:-1])
    assert not hasattr(layers[-1], "parametrizations") and layers[-1].out_channels == 1
    assert [m.out_channels for m in layers] == [8, 16, 32, 64, 1]
    assert [m.stride[0] for m in layers] == [2, 2, 2, 1, 1]
    assert all(isinstance(block[1], nn.InstanceNorm2d) and not block[1].affine for block in D.scales[0].blocks[1:-1])


@pytest.fixture(scope="module")
def vgg(tmp_path_factory):
    """A VGG-19 with random weights made here (nothing downloaded): its file and its layers."""
    from torchvision.models import vgg19

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    features = vgg19(weights=None).features
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return path, features


def test_vgg_loss_is_spades_five_layer_loss(vgg):
    vgg_file, features = vgg
    gan = zoo.create_gan("spade", resolution=32, filters=8, vgg_weights=str(vgg_file), **SMALL)
    fake, real = torch.rand(2, 1, 32, 32) * 2 - 1, torch.rand(2, 1, 32, 32) * 2 - 1
    # models/networks/architecture.py VGG19 slices [0:2], [2:7], [7:12], [12:21], [21:30] on the
    # generator's [-1, 1] output as it is; loss.py VGGLoss weights 1/32, 1/16, 1/8, 1/4, 1, L1
    x, y, expected, start = fake.expand(-1, 3, -1, -1), real.expand(-1, 3, -1, -1), torch.tensor(0.0), 0
    for end, weight in zip((2, 7, 12, 21, 30), (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1), strict=True):
        with torch.no_grad():
            x, y = features[start:end](x), features[start:end](y)
        expected = expected + weight * F.l1_loss(x, y)
        start = end
    with torch.no_grad():
        assert torch.allclose(gan.vgg_loss(fake, real), expected, rtol=1e-5)


def test_paper_preset_trains_with_the_vgg_loss(vgg, tmp_path):
    vgg_file, _ = vgg
    result = zoo.train("spade", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=1, progress=False,
                       log_every=1, dataset_config={"train_subjects": 1, "test_subjects": 1},
                       gan_config={"filters": 8, "d_filters": 8, "spade_hidden": 16, "vgg_weights": str(vgg_file),
                                   **SMALL})
    assert result.last_metrics["vgg"] > 0 and result.last_metrics["feature_matching"] > 0


def test_the_official_layout_needs_32_pixels_and_its_own_widths():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="needs at least 32x32, not 16.*preset='pyramid' or 'fast'"):
        SpadeConfig(resolution=16)
    with pytest.raises(zoo.ConfigError, match="widths applies to layout 'pyramid'"):
        zoo.create_gan("spade", resolution=32, widths=[8, 4, 2])
    assert SpadeConfig(resolution=16, preset="pyramid").layout == "pyramid"


def test_fast_and_pyramid_presets():
    fast = SpadeConfig(resolution=32, preset="fast")
    assert (fast.widths, fast.spade_hidden, fast.full_resolution_block, fast.d_filters, fast.d_layers) == (
        [64, 32, 16], 64, False, 16, 3)
    assert SpadeConfig(resolution=128, preset="fast").widths == [64, 64, 64, 32, 16]  # a 64 per doubling
    pyramid = SpadeConfig(resolution=32, preset="pyramid")
    assert (pyramid.layout, pyramid.input, pyramid.vgg_weight, pyramid.widths) == ("pyramid", "noise", 0.0, None)
    assert SpadeConfig(resolution=32, preset="fast", d_layers=4).d_layers == 4  # a given field wins


def test_a_0_1_0_model_keeps_its_values():
    # 0.1.0 wrote every field it had; its generator was the pyramid with noise input, its PatchGANs had
    # spectral norm on the first convolution and biases before the instance norms
    fields = SpadeConfig(resolution=32, preset="pyramid").model_dump()
    old = {k: v for k, v in fields.items() if k not in ("preset", "layout", "vgg_layers", "d_first_spectral_norm")}
    config = SpadeConfig.model_validate(old)
    assert (config.preset, config.layout, config.vgg_layers, config.d_first_spectral_norm) == (
        None, "pyramid", "relu3_1", True)
    D = MultiscaleDiscriminator(config.model_copy(update={"d_filters": 8}))
    state = D.state_dict()
    for key in [k for k in state if k.endswith("weight.original") and ".blocks.0." not in k]:
        state[key.replace("parametrizations.weight.original", "bias")] = torch.zeros(1)  # 0.1.0's extra biases
    D.load_state_dict(state)  # they are dropped: an instance norm follows each of them
    with pytest.raises(RuntimeError, match="Missing key"):
        D.load_state_dict({k: v for k, v in state.items() if not k.endswith("weight.original")})


def test_the_mask_source_is_named_for_study_tables():
    origins = {source: zoo.create_gan("spade", resolution=32, preset="fast", mask_source=source,
                                      with_discriminator=False).mask_origin
               for source in ("generator", "bank", "none")}
    assert origins["bank"].startswith("real training masks") and "mask DCGAN" in origins["generator"]
    assert origins["none"].startswith("given")
    assert zoo.create_gan("dcgan", resolution=32).mask_origin == "generated with the image"


def test_the_adversarial_loss_is_the_registered_hinge_as_nvlabs_spade_has_it():
    """NVlabs/SPADE models/networks/loss.py, GANLoss(gan_mode='hinge'): D minimises
    mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))), G minimises -mean(D(G(z))), per discriminator scale."""
    from medgan_zoo.losses.adversarial import HingeLoss

    gan = zoo.create_gan("spade", resolution=32, preset="fast")
    assert isinstance(gan.adversarial, HingeLoss)
    real, fake = torch.randn(4, 1, 6, 6), torch.randn(4, 1, 6, 6)
    nvlabs_d = torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()
    assert torch.allclose(gan.adversarial.discriminator_loss(real, fake), nvlabs_d)
    assert torch.allclose(gan.adversarial.generator_loss(fake), -fake.mean())
