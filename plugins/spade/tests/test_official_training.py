"""SPADE's training details equal NVlabs/SPADE's (the initialisation, the discriminator's input, the
order and batching of the two steps, the KL term), and a model recorded before they did keeps the
conventions it was trained with."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext, joint_from_pairs

RECORDED = Path(__file__).parent / "data" / "recorded-run"  # made by data/make_recorded_run.py at d3a1913
SMALL = {"filters": 8, "d_filters": 8, "latent_dim": 8, "spade_hidden": 8, "mask_source": "none", "batch_size": 4}
NOISE = {**SMALL, "preset": "pyramid", "init": "xavier"}  # noise input: each generator call draws its own z


def _context(batch: torch.Tensor, seed: int = 0) -> StepContext:
    return StepContext(batch=lambda: batch, rng=torch.Generator().manual_seed(seed), device=torch.device("cpu"),
                       autocast=contextlib.nullcontext, diffaugment=lambda x: x)


def _real(gan, n: int = 4) -> torch.Tensor:
    c = gan.config
    images = torch.rand(n, c.image_channels, c.resolution, c.resolution) * 2 - 1
    masks = torch.randint(0, c.num_classes, (n, c.resolution, c.resolution))
    return joint_from_pairs(images, masks, c.num_classes)


def _raw_weight(layer: nn.Module) -> torch.Tensor:
    parametrizations = getattr(layer, "parametrizations", None)
    return parametrizations.weight.original if parametrizations is not None else layer.weight


def test_every_layer_of_g_d_and_e_starts_as_nvlabs_init_weights_xavier_gain_0_02():
    """NVlabs/SPADE options/base_options.py: --init_type xavier, --init_variance 0.02;
    models/networks/__init__.py create_network() calls models/networks/base_network.py init_weights() on G,
    D and E: xavier_normal_(weight, gain=0.02) for every Conv*/Linear (the raw weight under spectral
    norm), biases 0."""
    torch.manual_seed(0)
    gan = zoo.create_gan("spade", resolution=32, vae=True, vgg_weight=0.0, **{**SMALL, "mask_source": "generator"})
    checked = 0
    for network in (gan.generator.spade, gan.generator.encoder, gan.discriminator):
        for name, layer in network.named_modules():
            if not isinstance(layer, (nn.Conv2d, nn.Linear)):
                continue
            weight = _raw_weight(layer)
            if name.endswith("gamma_beta"):  # NVlabs's mlp_gamma and mlp_beta, fused here: each half's fan
                weight = weight[: len(weight) // 2]
            fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
            expected = 0.02 * math.sqrt(2.0 / (fan_in + fan_out))
            if weight.numel() >= 2000:  # enough draws for the std to be within 10%
                assert weight.std().item() == pytest.approx(expected, rel=0.1), layer
                checked += 1
            assert weight.abs().max().item() < 7 * expected
            if layer.bias is not None:
                assert torch.count_nonzero(layer.bias) == 0
    assert checked >= 10
    # the spectral norm divides by the largest singular value of these weights, not of the default init's
    conv = gan.discriminator.scales[0].blocks[1][0]
    sigma = torch.linalg.matrix_norm(_raw_weight(conv).flatten(1), ord=2)
    assert (_raw_weight(conv) / conv.weight).mean().item() == pytest.approx(sigma.item(), rel=2e-3)
    # the mask DCGAN is medgan-zoo's own and keeps its DCGAN initialisation, N(0, 0.02)
    assert gan.mask_gan.generator.net[0].weight.std().item() == pytest.approx(0.02, rel=0.1)


@pytest.mark.parametrize("preset", ["pyramid", "fast"])
def test_medgan_zoos_own_presets_keep_the_layers_default_init_they_were_measured_with(preset):
    torch.manual_seed(0)
    gan = zoo.create_gan("spade", resolution=32, preset=preset, **SMALL)
    assert gan.config.init == "pytorch"
    head = gan.generator.spade.head  # nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), not 0.02-scaled
    assert head.weight.std().item() == pytest.approx(1 / math.sqrt(3 * head.in_features), rel=0.1)
    assert zoo.create_gan("spade", resolution=32, preset=preset, init="xavier", **SMALL).config.init == "xavier"


class _Recorder:
    """Events of one train_step in order: generator and discriminator forwards, optimiser steps."""

    def __init__(self, gan):
        self.events: list[tuple] = []
        self.d_inputs: list[torch.Tensor] = []
        self.g_outputs: list[torch.Tensor] = []

        def g_hook(module, args, output):
            self.events.append(("G", torch.is_grad_enabled()))
            self.g_outputs.append(output.detach().clone())

        def d_hook(module, args):
            self.events.append(("D", len(args[0])))
            self.d_inputs.append(args[0].detach().clone())

        gan.generator.spade.register_forward_hook(g_hook)
        gan.discriminator.register_forward_pre_hook(d_hook)
        for name in ("generator", "discriminator"):
            gan.optimizers[name].register_step_post_hook(lambda *a, name=name: self.events.append(("step", name)))


@pytest.mark.parametrize("vae", [False, True])
def test_an_iteration_is_nvlabs_generator_step_then_discriminator_step_on_fresh_fakes_in_one_batch(vae):
    """NVlabs/SPADE train.py: run_generator_one_step(data_i), then run_discriminator_one_step(data_i);
    models/pix2pix_model.py compute_discriminator_loss() regenerates the fake under torch.no_grad() with the
    current generator (a fresh z, or a fresh encoder sample) and discriminate() feeds fake and real as one
    concatenated batch, fake first, the one-hot label map in {0, 1}."""
    torch.manual_seed(0)
    gan = zoo.create_gan("spade", resolution=32, vae=vae, **NOISE)
    gan.configure_optimizers()
    recorder = _Recorder(gan)
    real = _real(gan)
    gan.train_step(_context(real))
    n = len(real)
    assert recorder.events == [("G", True), ("D", 2 * n), ("step", "generator"),
                               ("G", False), ("D", 2 * n), ("step", "discriminator")]
    c = gan.config
    segmap = (real[:, c.image_channels:] + 1) / 2
    for d_input, g_output in zip(recorder.d_inputs, recorder.g_outputs, strict=True):
        assert torch.equal(d_input[:n, :c.image_channels], g_output)  # the fake half is this step's generation
        assert torch.equal(d_input[n:, :c.image_channels], real[:, :c.image_channels])
        assert torch.equal(d_input[:n, c.image_channels:], segmap) and torch.equal(d_input[n:, c.image_channels:],
                                                                                  segmap)
    assert not torch.allclose(recorder.g_outputs[0], recorder.g_outputs[1])  # regenerated, not reused


def test_a_model_recorded_with_signed_masks_keeps_feeding_them():
    gan = zoo.create_gan("spade", resolution=32, d_mask="signed", **NOISE)
    gan.configure_optimizers()
    recorder = _Recorder(gan)
    real = _real(gan)
    gan.train_step(_context(real))
    assert set(recorder.d_inputs[1][:, gan.config.image_channels:].unique().tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_kl_term_is_nvlabs_kldloss_summed_over_batch_and_latent_dimensions(reduction):
    """NVlabs/SPADE models/networks/loss.py KLDLoss: -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()),
    times opt.lambda_kld (0.05) in pix2pix_model.py generate_fake(); 'mean' divides by the batch (recorded
    models before kl_reduction)."""
    torch.manual_seed(0)
    gan = zoo.create_gan("spade", resolution=32, vae=True, kl_reduction=reduction, **NOISE)
    assert gan.config.kl_weight == 0.05
    gan.configure_optimizers()
    posterior = []
    gan.generator.encoder.register_forward_hook(lambda m, a, out: posterior.append([t.detach() for t in out]))
    logs = gan.train_step(_context(_real(gan)))
    mu, logvar = posterior[0]  # the generator step's encoding
    official = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    expected = official if reduction == "sum" else official / len(mu)
    assert logs["kl"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_model_recorded_before_these_conventions_samples_and_resumes_as_it_was_trained(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RECORDED, run)
    recorded = json.loads((RECORDED / "config.json").read_text())["gan_config"]
    assert "init" not in recorded and "d_mask" not in recorded and "kl_reduction" not in recorded
    model = zoo.load(run)
    c = model.gan.config
    assert (c.init, c.d_mask, c.kl_reduction) == ("pytorch", "signed", "mean")
    expected = load_file(str(RECORDED / "expected_samples.safetensors"))
    masks = (torch.arange(4 * 32 * 32).reshape(4, 32, 32) // 7) % 4
    pairs = model.sample(4, seed=3, masks=masks)
    # the same numbers up to float rounding: CPUs with other vector units (AVX2, AVX-512) round differently
    torch.testing.assert_close(pairs.images, expected["images"], rtol=0, atol=1e-5)
    assert torch.equal(pairs.masks, expected["masks"])

    for name in ("config.json", "model.safetensors"):  # as an interrupted run leaves its folder: a checkpoint
        (run / name).unlink()
    seen = []

    class Conventions:
        def on_start(self, state, control):
            seen.append(state.gan.config)

    result = zoo.train("spade", "acdc-phantom", out=run, resume=True, steps=3, resolution=32, progress=False,
                       checkpoint_every=2, sample_every=100, log_every=1, callbacks=[Conventions()],
                       dataset_config={"train_subjects": 2, "test_subjects": 1},
                       gan_config=json.loads((RECORDED / "train.json").read_text())["gan_config"])
    assert result.steps == 3 and result.resumed_from == [2]
    assert (seen[0].init, seen[0].d_mask, seen[0].kl_reduction) == ("pytorch", "signed", "mean")
    rewritten = json.loads((run / "config.json").read_text())["gan_config"]
    assert (rewritten["init"], rewritten["d_mask"], rewritten["kl_reduction"]) == ("pytorch", "signed", "mean")
    from medgan_zoo.training.checkpoint import read_checkpoint

    assert read_checkpoint(run / "checkpoints" / "last.safetensors")[1]["gan_config"] == rewritten  # recorded now


def test_a_new_paper_model_records_the_official_conventions(tmp_path):
    result = zoo.train("spade", "acdc-phantom", out=tmp_path / "new", resolution=32, steps=1, progress=False,
                       dataset_config={"train_subjects": 2, "test_subjects": 1},
                       gan_config={**SMALL, "vae": True, "d_layers": 2, "vgg_weight": 0.0})
    recorded = json.loads((result.out / "config.json").read_text())["gan_config"]
    assert (recorded["init"], recorded["init_gain"], recorded["d_mask"], recorded["kl_reduction"]) == (
        "xavier", 0.02, "binary", "sum")
