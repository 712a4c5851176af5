"""StyleGAN2 plugin: layers against hand-written references, regularisers against autograd,
augmentation pair rules, networks across sizes, training, sampling, saving and bad input."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
import torch
import torch.nn.functional as F
from medgan_zoo_stylegan2.ada import AdaptiveAugment
from medgan_zoo_stylegan2.config import StyleGan2Config
from medgan_zoo_stylegan2.networks import Discriminator, Generator
from medgan_zoo_stylegan2.ops import (
    EqualConv2d,
    EqualLinear,
    bias_lrelu,
    blur,
    downsample2d,
    fir_kernel,
    modulated_conv2d_reference,
    modulated_conv2d_scaled,
    upsample2d,
)
from medgan_zoo_stylegan2.regularisers import path_lengths, r1_penalty

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext

TINY = {"channel_base": 256, "channel_max": 32, "latent_dim": 16, "w_dim": 16, "mapping_layers": 2,
        "batch_size": 4}
DATA = {"train_subjects": 2, "test_subjects": 1}


def tiny(**kw) -> StyleGan2Config:
    return StyleGan2Config(**{**TINY, "resolution": 16, "image_channels": 1, "num_classes": 2, **kw})


def context(seed: int = 0, batch=None, autocast=contextlib.nullcontext) -> StepContext:
    return StepContext(batch=batch or (lambda: torch.empty(0)), rng=torch.Generator().manual_seed(seed),
                       device=torch.device("cpu"), autocast=autocast, diffaugment=lambda x: x)


def test_stylegan2_is_installed_through_its_entry_point():
    spec = zoo.get_registry().gans["stylegan2"]
    assert spec.origin.distribution == "medgan-zoo-stylegan2" and not spec.conditional


# -- layers -------------------------------------------------------------------------------------

def _modulated_by_hand(x, weight, styles, demodulate, up):
    """One sample at a time: scale the weight's input channels, normalise each output filter,
    convolve (transposed with stride 2 for ``up``)."""
    outputs = []
    for sample, style in zip(x, styles, strict=True):
        w = weight * style.view(1, -1, 1, 1)
        if demodulate:
            w = w / torch.sqrt((w**2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        if up:
            outputs.append(F.conv_transpose2d(sample[None], w.transpose(0, 1), stride=2))
        else:
            outputs.append(F.conv2d(sample[None], w, padding=w.shape[-1] // 2))
    return torch.cat(outputs)


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("kernel", [1, 3])
def test_modulated_convolution_both_paths_match_a_hand_written_reference(up, demodulate, kernel):
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 6, 8, 8), torch.randn(5, 6, kernel, kernel), torch.randn(3, 6)
    expected = _modulated_by_hand(x, weight, styles, demodulate, up)
    for path in (modulated_conv2d_reference, modulated_conv2d_scaled):
        assert torch.allclose(path(x, weight, styles, demodulate, up), expected, atol=1e-5)
    if demodulate:  # every output filter has unit norm, whatever the style's scale
        assert torch.allclose(modulated_conv2d_scaled(x, weight, styles * 7.0, True, up), expected, atol=1e-4)


def test_equalised_learning_rate_scales_weights_at_run_time():
    torch.manual_seed(0)
    layer = EqualLinear(64, 8, bias_init=1.0, lr_mult=0.01)
    x = torch.randn(5, 64)
    expected = x @ (layer.weight * 0.01 / 8).t() + layer.bias * 0.01
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert torch.allclose(layer.bias * 0.01, torch.ones(8))  # the bias starts at bias_init
    assert layer.weight.std().item() == pytest.approx(100, rel=0.1)  # stored as N(0, 1 / lr_mult^2)
    # equalised: the gradient on the stored weight is the effective weight's scaled by the gain
    layer(x).sum().backward()
    effective = (layer.weight * layer.weight_gain).detach().requires_grad_(True)
    F.linear(x, effective, layer.bias.detach() * 0.01).sum().backward()
    assert torch.allclose(layer.weight.grad, effective.grad * layer.weight_gain, atol=1e-7)
    conv = EqualConv2d(9, 4, 3)
    y = torch.randn(2, 9, 6, 6)
    assert torch.allclose(conv(y), F.conv2d(y, conv.weight / math.sqrt(81), conv.bias, padding=1), atol=1e-6)


def test_fir_resampling_matches_plain_convolutions_and_has_every_derivative():
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    k = fir_kernel(dtype=torch.float64).expand(3, 1, 4, 4)
    assert torch.allclose(upsample2d(x), F.conv_transpose2d(x, k * 4, stride=2, padding=1, groups=3))
    assert torch.allclose(downsample2d(x), F.conv2d(x, k, stride=2, padding=1, groups=3))
    assert torch.allclose(blur(x, 2), F.conv2d(x, k, padding=2, groups=3))
    assert upsample2d(x).mean().item() == pytest.approx(x.mean().item(), abs=0.02)  # gain 4 keeps the level
    for op in (upsample2d, downsample2d, lambda t: blur(t, 1), lambda t: blur(t, 2, gain=4.0)):
        t = torch.randn(1, 2, 7, 6, dtype=torch.float64, requires_grad=True)  # odd and non-square
        assert torch.autograd.gradcheck(op, (t,), fast_mode=True)
        assert torch.autograd.gradgradcheck(op, (t,), fast_mode=True)


def test_fused_bias_leaky_relu_equals_the_separate_ops_in_every_derivative():
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.allclose(bias_lrelu(x, b, 1.5), F.leaky_relu(x + b.view(1, -1, 1, 1), 0.2) * 1.5)
    assert torch.autograd.gradcheck(lambda x, b: bias_lrelu(x, b, 1.5), (x, b), fast_mode=True)
    assert torch.autograd.gradgradcheck(lambda x, b: bias_lrelu(x, b, 1.5), (x, b), fast_mode=True)
    flat = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, b: bias_lrelu(x, b), (flat, b), fast_mode=True)


def test_both_modconv_paths_give_the_same_generator():
    config = tiny(resolution=32)
    torch.manual_seed(0)
    scaled = Generator(config)
    reference = Generator(config.model_copy(update={"modconv": "reference"}))
    reference.load_state_dict(scaled.state_dict())
    z = torch.randn(3, 16)
    assert torch.allclose(scaled(z), reference(z), atol=1e-4)


# -- regularisers ---------------------------------------------------------------------------------

def test_r1_penalty_matches_per_sample_autograd():
    torch.manual_seed(0)
    D = Discriminator(tiny(mbstd_group=1))
    x = torch.randn(3, 3, 16, 16)
    penalty = r1_penalty(D, x)
    for i in range(3):
        xi = x[i:i + 1].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(xi).sum(), xi)
        assert penalty[i].item() == pytest.approx(grad.square().sum().item(), rel=1e-4)
    penalty.mean().backward()  # the graph is kept: the penalty trains D
    assert D.fromrgb.weight.grad is not None and D.fromrgb.weight.grad.abs().sum() > 0


def test_path_lengths_match_a_per_sample_vector_jacobian_product():
    torch.manual_seed(0)
    G = Generator(tiny())
    ws = G.broadcast(G.mapping(torch.randn(3, 16))).detach().requires_grad_(True)
    noise = torch.randn(3, 3, 16, 16) / 16

    def synthesis(w):
        return G.synthesis(w, noise="const")

    lengths = path_lengths(synthesis, ws, noise)
    for i in range(3):
        _, (vjp,) = torch.autograd.functional.vjp(lambda w, i=i: synthesis(w), (ws[i:i + 1].detach(),), noise[i:i + 1])
        expected = vjp.square().sum(dim=2).mean().sqrt()
        assert lengths[i].item() == pytest.approx(expected.item(), rel=1e-4)


def test_regularisers_run_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    gan = zoo.create_gan("stylegan2", **tiny(ada=False).model_dump())
    real = torch.randn(4, 3, 16, 16)
    plain = gan.r1(context(), real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = gan.r1(context(), real)
    assert under.dtype == torch.float32 and under.item() == pytest.approx(plain.item(), rel=1e-5)
    pl_plain = gan.path_length(context(1), 2)
    gan.training_state.pl_mean.zero_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pl_under = gan.path_length(context(1), 2)
    assert pl_under.dtype == torch.float32 and pl_under.item() == pytest.approx(pl_plain.item(), rel=1e-5)


# -- style mixing, EMA, augmentation --------------------------------------------------------------

def test_style_mixing_switches_to_the_second_latent_from_a_cutoff_on():
    gan = zoo.create_gan("stylegan2", **tiny(style_mixing=1.0).model_dump())
    G = gan.generator
    ws = gan._ws(context(3), 8)
    rng = torch.Generator().manual_seed(3)
    w1 = G.mapping(torch.randn(8, 16, generator=rng))
    w2 = G.mapping(torch.randn(8, 16, generator=rng))
    assert torch.allclose(ws[:, 0], w1)  # layer 0 always keeps the first latent
    for sample in range(8):
        first = torch.isclose(ws[sample], w1[sample]).all(dim=1)
        cutoff = int(first.long().argmin())
        assert 1 <= cutoff < G.num_ws and first[:cutoff].all() and not first[cutoff:].any()
        assert torch.allclose(ws[sample, cutoff:], w2[sample].expand(G.num_ws - cutoff, -1))
    unmixed = zoo.create_gan("stylegan2", **tiny(style_mixing=0.0).model_dump())._ws(context(3), 8)
    assert torch.equal(unmixed, unmixed[:, :1].expand_as(unmixed))


def test_ema_update_and_the_truncation_centre_follow_the_generator():
    assert tiny(batch_size=32).ema_decay == pytest.approx(0.5 ** (32 / 10_000))  # 10 kimg half-life
    gan = zoo.create_gan("stylegan2", **tiny(ema_kimg=None, ema_decay=0.9).model_dump())
    before = [p.clone() for p in gan.generator_ema.parameters()]
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(1.0)
        gan.generator.mapping(torch.randn(64, 16), track=True)
    gan.update_ema()
    for old, new, live in zip(before, gan.generator_ema.parameters(), gan.generator.parameters(), strict=True):
        assert torch.allclose(new, 0.9 * old + 0.1 * live, atol=1e-6)
    assert torch.equal(gan.generator_ema.mapping.w_avg, gan.generator.mapping.w_avg)
    assert gan.generator.mapping.w_avg.abs().sum() > 0
    ramp = zoo.create_gan("stylegan2", **tiny(batch_size=4, ema_kimg=10, ema_rampup=0.05).model_dump())
    ramp.images_seen = 400  # half-life min(10,000, 400 * 0.05 = 20 images): decay 0.5^(4 / 20)
    before = [p.clone() for p in ramp.generator_ema.parameters()]
    with torch.no_grad():
        for p in ramp.generator.parameters():
            p.add_(1.0)
    ramp.update_ema()
    weight = 1 - 0.5 ** (4 / 20)
    for old, new in zip(before, ramp.generator_ema.parameters(), strict=True):
        assert torch.allclose(new, old + weight, atol=1e-4)


def test_ada_moves_image_and_mask_together_and_colours_only_the_image():
    ada = AdaptiveAugment(image_channels=1, target=0.6, kimg=1, interval=1, batch_size=1000)
    ada.p.fill_(1.0)
    torch.manual_seed(0)
    mask = F.interpolate(torch.rand(6, 1, 8, 8), size=32, mode="bilinear") * 2 - 1
    x = torch.cat([mask, mask, -mask], dim=1)  # image = mask channel; two mask channels
    out = ada(x, torch.Generator().manual_seed(1))
    assert not torch.allclose(out[:, 1], x[:, 1], atol=1e-2)  # geometry changed
    assert torch.allclose(out[:, 2], -out[:, 1], atol=1e-5)  # mask channels moved together
    for img, m in zip(out[:, 0], out[:, 1], strict=True):  # image = gain * mask + offset, per sample
        design = torch.stack([m.flatten(), torch.ones(m.numel())], dim=1)
        solution = torch.linalg.lstsq(design, img.flatten()[:, None]).solution
        assert torch.allclose(design @ solution, img.flatten()[:, None], atol=1e-4)


def test_ada_flips_only_when_allowed_and_p_follows_the_overfitting_measure():
    rng = torch.Generator().manual_seed(0)
    for flip, any_negative in ((False, False), (True, True)):
        ada = AdaptiveAugment(1, 0.6, 1, 1, 1000, flip_lr=flip)
        ada.p.fill_(1.0)
        det = torch.linalg.det(ada.matrices(256, rng, torch.device("cpu"), (32, 32))[:, :2, :2])
        assert bool((det < 0).any()) is any_negative
    ada = AdaptiveAugment(1, target=0.6, kimg=1, interval=1, batch_size=100)  # step 0.1 per adjustment
    ada.accumulate(torch.ones(10))  # D sure of every real: r_t = 1 > 0.6
    assert ada.adjust().item() == 1.0 and ada.p.item() == pytest.approx(0.1)
    ada.accumulate(-torch.ones(10))
    ada.adjust()
    ada.accumulate(-torch.ones(10))
    ada.adjust()
    assert ada.p.item() == 0.0  # clamped at zero
    no = AdaptiveAugment(1, 0.6, 1, 1, 100)
    x = torch.randn(2, 2, 16, 16)
    assert torch.allclose(no(x, rng), x, atol=1e-5)  # p = 0: identity


def test_micro_batches_accumulate_to_the_whole_batch():
    torch.manual_seed(0)
    gan = zoo.create_gan("stylegan2", **tiny(batch_size=6, micro_batch=4, ada=False, mbstd_group=1).model_dump())
    assert gan._parts(6) == [4, 2] and gan._parts(3) == [3]
    real = torch.randn(6, 3, 16, 16)
    whole = gan.r1(context(), real)
    parts = sum(gan.r1(context(), part) * len(part) / 6 for part in real.split([4, 2]))
    assert parts.item() == pytest.approx(whole.item(), rel=1e-5)  # per-sample penalties: the mean splits
    seen = []
    gan.discriminator.register_forward_hook(lambda module, args, out: seen.append(len(args[0])))
    gan.configure_optimizers()
    data = torch.randn(6, 3, 16, 16)
    before = [p.clone() for p in gan.generator.parameters()]
    ctx = context(batch=lambda: data)
    for step in (1, 2):
        ctx.step = step
        logs = gan.train_step(ctx)
    assert max(seen) == 4 and 2 in seen  # no pass saw more than micro_batch samples
    assert all(torch.isfinite(v) for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, gan.generator.parameters(), strict=True))


def test_ada_resamples_in_float32_under_bf16_autocast():
    ada = AdaptiveAugment(1, 0.6, 1, 1, 100)  # p = 0: the identity, as real and generated inputs must see it
    x = torch.rand(2, 3, 128, 128).mul(2).sub(1).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = ada(x, torch.Generator().manual_seed(0))
    assert out.dtype == torch.bfloat16 and (out.float() - x.float()).abs().max() < 1e-2  # a bf16 grid: ~0.1


# -- shapes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
@pytest.mark.parametrize(("channels", "classes"), [(1, 0), (3, 3), (1, 5)])
def test_shapes_across_resolutions_and_channels(resolution, channels, classes):
    config = StyleGan2Config(resolution=resolution, image_channels=channels, num_classes=classes,
                             **{**TINY, "channel_base": 64, "channel_max": 8})
    G, D = Generator(config), Discriminator(config)
    out = G(torch.randn(2, 16))
    assert out.shape == (2, channels + classes, resolution, resolution)
    assert G.num_ws == 2 * int(math.log2(resolution)) - 2
    assert D(out).shape == (2,)


# -- training, sampling, saving -------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("stylegan2") / "run"
    zoo.train("stylegan2", "acdc-phantom", out=out, resolution=32, steps=8, dataset_config=DATA,
              gan_config={**TINY, "r1_interval": 4, "pl_interval": 2, "ada_kimg": 0.1}, progress=False,
              log_every=4, checkpoint_every=4)
    return out


def test_short_training_run_logs_every_term(trained):
    import csv

    rows = list(csv.DictReader((trained / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["4", "8"]
    for key in ("loss_d", "loss_g", "r1", "path_length", "ada_p"):
        assert math.isfinite(float(rows[-1][key])), key
    assert float(rows[-1]["r1"]) > 0 and float(rows[-1]["path_length"]) > 0
    config = json.loads((trained / "config.json").read_text())
    assert config["plugin_distribution"] == "medgan-zoo-stylegan2"


def test_save_load_sample_round_trip_with_truncation(trained, tmp_path):
    model = zoo.load(trained)
    a = model.sample(5, seed=3, truncation=0.7)
    b = zoo.load(trained).sample(5, seed=3, truncation=0.7)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert a.images.shape == (5, 1, 32, 32) and int(a.masks.max()) <= 3
    assert not torch.equal(a.images, model.sample(5, seed=3).images)  # truncation changes the pairs
    mean = model.sample(4, seed=0, truncation=0.0, noise="const")  # the noise is the only variety left
    assert torch.equal(mean.images, mean.images[:1].expand_as(mean.images))  # psi = 0: the mean image
    model.sample(2, seed=0, truncation=1.5)  # extrapolation is legal
    with pytest.raises(ValueError, match="truncation must be a number >= 0"):
        model.sample(2, seed=0, truncation=-0.5)


def test_cli_samples_with_truncation_and_refuses_a_negative_one(trained, tmp_path):
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    runner = CliRunner()
    out = tmp_path / "samples"
    result = runner.invoke(cli, ["sample", str(trained), "-n", "3", "--seed", "3", "--format", "npz",
                                 "--set", "truncation=0.7", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import numpy as np

    expected = zoo.load(trained).sample(3, seed=3, truncation=0.7)
    assert np.allclose(np.load(out / "samples_000000.npz")["images"], expected.images.numpy(), atol=1e-6)
    assert json.loads((out / "samples.json").read_text())["options"] == {"truncation": 0.7}
    result = runner.invoke(cli, ["sample", str(trained), "-n", "3", "--set", "truncation=-1", "--out",
                                 str(tmp_path / "bad")])
    assert result.exit_code == 2 and "truncation must be a number >= 0" in result.output


def test_bad_resolution_is_refused():
    with pytest.raises(zoo.ConfigError, match="power of two from 8 to 1024, not 48"):
        zoo.create_gan("stylegan2", resolution=48)
    with pytest.raises(zoo.ConfigError, match="ada and diffaugment are alternatives"):
        zoo.create_gan("stylegan2", diffaugment=["translation"])


def test_checkpoint_with_other_channels_or_layout_is_refused(trained, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "model"
    zoo.load(trained).save_pretrained(folder, sample_grid=False)
    config = json.loads((folder / "config.json").read_text())
    config["gan_config"]["image_channels"] = 3
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(zoo.ModelLoadError, match="do not match StyleGan2Config"):
        zoo.load(folder)
    config["gan_config"]["image_channels"] = 1
    config["plugin_version"] = "0.0.1"
    (folder / "config.json").write_text(json.dumps(config))
    tensors = load_file(folder / "model.safetensors")
    tensors["generator.synthesis.blocks.0.old_name"] = tensors.pop("generator.synthesis.blocks.0.const")
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(zoo.ModelLoadError, match=r"written by medgan-zoo-stylegan2 0\.0\.1.*0\.1\.0"):
        zoo.load(folder)
