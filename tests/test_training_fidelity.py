"""Training mechanics equal their references: DiffAugment as Zhao et al.'s code, Table 1's values
(He init with gain and slope, biases, spectral norm) and resume across device types; WGAN-GP's
penalty and clipping are in test_gans.py. docs/fidelity.md lists each reference."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import medgan_zoo as zoo
from medgan_zoo.factory import create_gan
from medgan_zoo.training.augment import DiffAugment
from medgan_zoo.training.checkpoint import read_checkpoint

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 16, "batch_size": 4}


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """By hand: out[..., i, j] = x[..., i + dy, j + dx], zero where that falls outside."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[..., i, j] = x[..., i + dy, j + dx]
    return out


def test_diffaugment_translation_is_a_whole_pixel_shift_with_zero_padding():
    torch.manual_seed(0)
    x = torch.rand(40, 3, 16, 16) + 1  # distinct positive values: a shift is identified uniquely
    out = DiffAugment(("translation",), 1)(x, torch.Generator().manual_seed(1))
    shifts = set()
    for b in range(len(x)):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(out[b], _shifted(x[b], dy, dx))]
        assert len(found) == 1, f"sample {b} is not an integer shift of its input by at most 2 (16 / 8) pixels"
        shifts.add(found[0])
    assert {dy for dy, _ in shifts} == {-2, -1, 0, 1, 2} and {dx for _, dx in shifts} == {-2, -1, 0, 1, 2}


def test_diffaugment_translation_keeps_a_stripe_pattern_unblurred():
    stripes = torch.ones(8, 1, 32, 32)
    stripes[..., ::2] = -1  # +/-1 columns: any interpolation would average them
    out = DiffAugment(("translation",), 1)(stripes, torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) <= {-1.0, 0.0, 1.0}


def test_diffaugment_cutout_may_cross_the_border():
    x = torch.ones(400, 2, 16, 16)
    out = DiffAugment(("cutout",), 1)(x, torch.Generator().manual_seed(0))
    assert torch.equal(out[:, 0], out[:, 1])  # one square for every channel, mask channels included
    areas = (out[:, 0] == 0).flatten(1).sum(1)
    assert areas.max() == 64 and areas.min() < 64  # 8x8 inside, cut by the border elsewhere
    for b in range(len(x)):  # always one axis-aligned rectangle
        rows, cols = (out[b, 0] == 0).nonzero().unbind(1)
        assert (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) == areas[b]
    corner = (out[:, 0, 0, 0] == 0) | (out[:, 0, -1, -1] == 0)
    assert corner.any()  # centres reach the edges (the reference draws them anywhere in the image)


def test_diffaugment_colour_touches_image_channels_only():
    x = torch.rand(6, 3, 8, 8) * 2 - 1
    out = DiffAugment(("color",), 1)(x, torch.Generator().manual_seed(0))
    assert torch.equal(out[:, 1:], x[:, 1:]) and not torch.equal(out[:, :1], x[:, :1])


@pytest.mark.parametrize("gain", [None, 1.0, 0.1])
@pytest.mark.parametrize(("g_activation", "d_activation"), [("relu", "leaky-relu"), ("selu", "relu")])
def test_kaiming_uses_the_gain_and_each_networks_activation(gain, g_activation, d_activation):
    from medgan_zoo.gans.backbone import SLOPE

    torch.manual_seed(0)
    gan = create_gan("dcgan", resolution=64, init="kaiming", init_gain=gain, g_filters=64, d_filters=64,
                     g_activation=g_activation, d_activation=d_activation)
    for network, act in ((gan.generator, g_activation), (gan.discriminator, d_activation)):
        convs = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        weight = convs[1].weight  # a hidden layer with many weights
        fan_in = nn.init._calculate_correct_fan(weight, "fan_in")
        he = (2 / (1 + SLOPE[act] ** 2)) ** 0.5 / fan_in ** 0.5
        assert weight.std().item() == pytest.approx(he * (gain or 1.0), rel=0.05)


def test_generator_biases_exist_where_no_normalisation_follows():
    plain = create_gan("dcgan", resolution=32, g_norm="none", **TINY).generator
    normed = create_gan("dcgan", resolution=32, g_norm="batch", **TINY).generator
    ups = [m for m in plain.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert all(m.bias is not None for m in ups)
    assert [m.bias is not None for m in normed.modules() if isinstance(m, nn.ConvTranspose2d)][-2:] == [False, True]


def test_generator_files_without_hidden_biases_still_load():
    torch.manual_seed(0)
    generator = create_gan("dcgan", resolution=32, g_norm="none", g_spectral_norm=True, **TINY).generator
    old = {k: v for k, v in generator.state_dict().items()
           if not (k.endswith(".bias") and int(k.split(".")[1]) < len(generator.net) - 2)}
    assert len(old) < len(generator.state_dict())  # the file written before hidden biases existed
    fresh = create_gan("dcgan", resolution=32, g_norm="none", g_spectral_norm=True, **TINY).generator
    fresh.load_state_dict(old)
    hidden = [m.bias for m in list(fresh.modules()) if isinstance(m, nn.ConvTranspose2d)][:-1]
    assert all(torch.equal(b, torch.zeros_like(b)) for b in hidden)
    with pytest.raises(RuntimeError, match="Missing key"):  # anything else missing is still an error
        fresh.load_state_dict({k: v for k, v in old.items() if not k.endswith("weight.original")})


@pytest.mark.parametrize("gan_name", ["hingegan", "dcgan"])
def test_spectral_norm_estimate_is_converged_after_initialisation(gan_name):
    torch.manual_seed(0)
    gan = create_gan(gan_name, resolution=32, d_spectral_norm=True, g_spectral_norm=True, init="normal",
                     init_gain=0.02, **TINY)
    checked = 0
    for module in gan.modules():
        if not hasattr(module, "parametrizations"):
            continue
        norm_layer = module.parametrizations.weight[0]
        original = module.parametrizations.weight.original
        matrix = original.movedim(norm_layer.dim, 0).flatten(1)
        true_sigma = torch.linalg.matrix_norm(matrix, ord=2)
        module.eval()  # read the stored estimate without another power iteration
        used_sigma = original.norm() / module.weight.norm()
        assert used_sigma.item() == pytest.approx(true_sigma.item(), rel=2e-3)
        checked += 1
    assert checked >= 6


def _run(out, steps, resume=False, **settings):
    return zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=steps, resume=resume,
                     dataset_config={"train_subjects": 2, "test_subjects": 1}, gan_config=TINY,
                     progress=False, log_every=2, sample_every=1000, checkpoint_every=2, **settings)


def _as_if_saved_on_cuda(checkpoint, old_format: bool) -> None:
    tensors, meta = read_checkpoint(checkpoint)
    tensors["rng.engine"] = torch.arange(16, dtype=torch.uint8)  # a CUDA Philox state: seed + offset
    if old_format:
        meta.pop("rng_device")
    else:
        meta["rng_device"] = "cuda"
    save_file(tensors, str(checkpoint), metadata={"medgan_zoo_checkpoint": json.dumps(meta)})


@pytest.mark.parametrize("old_format", [False, True])
def test_a_run_saved_on_a_gpu_resumes_on_the_cpu(tmp_path, old_format):
    out = tmp_path / "run"
    _run(out, 2)
    checkpoint = out / "checkpoints/last.safetensors"
    _as_if_saved_on_cuda(checkpoint, old_format)
    saved = checkpoint.read_bytes()
    finals = []
    for _ in range(2):
        checkpoint.write_bytes(saved)
        with pytest.warns(UserWarning, match="saved on cuda and resumes on cpu"):
            _run(out, 4, resume=True)
        tensors, meta = read_checkpoint(checkpoint)
        assert meta["step"] == 4 and meta["rng_device"] == "cpu"
        finals.append(tensors["generator.net.0.weight"].clone())  # the file is rewritten next
    assert torch.equal(finals[0], finals[1])  # the new stream is seeded from the checkpoint


def test_a_cpu_run_resumes_without_a_warning(tmp_path):
    out = tmp_path / "run"
    _run(out, 2)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*resumes on.*")
        _run(out, 4, resume=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_cpu_round_trip(tmp_path):
    out = tmp_path / "run"
    _run(out, 2, device="cuda")
    with pytest.warns(UserWarning, match="saved on cuda and resumes on cpu"):
        _run(out, 4, resume=True, device="cpu")
    with pytest.warns(UserWarning, match="saved on cpu and resumes on cuda"):
        _run(out, 6, resume=True, device="cuda")
    assert read_checkpoint(out / "checkpoints/last.safetensors")[1]["step"] == 6
