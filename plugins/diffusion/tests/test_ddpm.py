"""``ddpm``: MONAI's 2D DDPM tutorial as the paper preset, a denoising loss that learns, DDPM/DDIM
sampling with per-sample seeds, resume bit for bit, and the study with a GAN beside it."""

from __future__ import annotations

import contextlib
import csv

import pytest
import torch
from click.testing import CliRunner
from medgan_zoo_diffusion.config import DdpmConfig
from safetensors.torch import load_file

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.gans.base import StepContext, joint_from_pairs

TINY = {"preset": "fast", "channels": (32, 32), "attention_levels": (False, True), "num_head_channels": 32,
        "batch_size": 4, "sampling_steps": 4}
DATA = {"train_subjects": 2, "test_subjects": 1}


def _real(n: int = 4, resolution: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 1, resolution, resolution, generator=g) * 2 - 1
    return joint_from_pairs(images, torch.randint(0, 4, (n, resolution, resolution), generator=g), 4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm") / "run"
    zoo.train("ddpm", "acdc-phantom", out=out, resolution=16, steps=3, progress=False, checkpoint_every=3,
              sample_every=100, dataset_config=DATA, gan_config=TINY)
    return out


def test_ddpm_is_installed_through_its_entry_point():
    spec = zoo.get_registry().gans["ddpm"]
    assert spec.origin.distribution == "medgan-zoo-diffusion" and not spec.conditional


def test_the_paper_preset_is_monais_2d_ddpm_tutorial():
    """Project-MONAI/tutorials generation/2d_ddpm/2d_ddpm_tutorial.ipynb: DiffusionModelUNet(spatial_dims=2,
    channels=(128, 256, 256), attention_levels=(False, True, True), num_res_blocks=1, num_head_channels=256),
    DDPMScheduler(num_train_timesteps=1000) (MONAI's defaults: linear_beta, epsilon), Adam lr 2.5e-5,
    batch_size 64, no EMA, sampling with scheduler.set_timesteps(num_inference_steps=1000)."""
    c = DdpmConfig(resolution=64)
    assert c.preset == "paper"
    assert (c.channels, c.attention_levels, c.num_res_blocks, c.num_head_channels) == (
        (128, 256, 256), (False, True, True), 1, 256)
    assert (c.num_train_timesteps, c.schedule, c.prediction) == (1000, "linear_beta", "epsilon")
    assert (c.lr, c.betas, c.batch_size, c.ema) == (2.5e-5, (0.9, 0.999), 64, False)
    assert (c.sampler, c.sampling_steps) == ("ddpm", 1000)
    from monai.networks.schedulers import DDPMScheduler

    ours = zoo.create_gan("ddpm", resolution=32, with_discriminator=False).noise_schedule
    theirs = DDPMScheduler(num_train_timesteps=1000)
    assert torch.equal(ours.betas, theirs.betas) and ours.prediction_type == theirs.prediction_type


def test_the_denoising_loss_drops_on_a_fixed_batch_with_fixed_timesteps_and_noise():
    torch.manual_seed(0)
    model = zoo.create_gan("ddpm", resolution=16, lr=1e-3, **{**TINY, "ema": False})
    model.configure_optimizers()
    real = _real()

    def context() -> StepContext:  # the same timesteps and noise every step
        return StepContext(batch=lambda: real, rng=torch.Generator().manual_seed(7), device=torch.device("cpu"),
                           autocast=contextlib.nullcontext, diffaugment=lambda x: x)

    first = model.train_step(context())["loss"].item()
    for _ in range(19):
        last = model.train_step(context())["loss"].item()
    assert last <= 0.8 * first, (first, last)


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_the_target_is_the_noise_or_v(prediction):
    model = zoo.create_gan("ddpm", resolution=16, prediction=prediction, **TINY)
    x0, noise, t = _real(), torch.randn(4, 5, 16, 16), torch.tensor([0, 10, 500, 999])
    schedule = model.noise_schedule
    with torch.no_grad():
        out = model.generator(schedule.add_noise(x0, noise, t), timesteps=t)
        target = noise if prediction == "epsilon" else schedule.get_velocity(x0, noise, t)
        assert model.loss(x0, noise, t).item() == pytest.approx(torch.mean((out - target) ** 2).item(), rel=1e-5)


def test_ddim_with_10_steps_samples_pairs_of_the_right_shape_and_labels(run):
    model = zoo.load(run)
    pairs = model.sample(5, seed=0, sampler="ddim", sampling_steps=10)
    assert pairs.images.shape == (5, 1, 16, 16) and pairs.masks.shape == (5, 16, 16)
    assert pairs.images.min() >= -1 and pairs.images.max() <= 1
    assert pairs.masks.dtype == torch.uint8 and int(pairs.masks.max()) < 4
    assert not torch.equal(pairs.images, model.sample(5, seed=0, sampler="ddim", sampling_steps=3).images)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_sample_i_depends_only_on_the_seed_and_i(run, sampler):
    """Each sample's initial noise and (DDPM) step noise come from its own seed, not from one generator
    for the batch as MONAI's DDPMScheduler.step draws it: blocks of 2 and of 6 give the same samples."""
    model = zoo.load(run)
    options = {"sampler": sampler, "sampling_steps": 4}
    model.gan.sampling_block = 6
    six = model.sample(6, seed=3, **options)
    model.gan.sampling_block = 2
    two = model.sample(6, seed=3, **options)
    assert (six.images - two.images).abs().max() < 1e-3
    assert torch.equal(six.masks, two.masks) or (six.masks != two.masks).float().mean() < 0.01
    assert torch.equal(model.sample(2, seed=3, **options).images, two.images[:2])
    assert not torch.allclose(six.images[0], six.images[1])


def test_bad_sampling_options_say_what_is_allowed(run):
    model = zoo.load(run)
    with pytest.raises(ValueError, match="sampler must be 'ddpm' or 'ddim', got 'euler'"):
        model.sample(2, seed=0, sampler="euler")
    with pytest.raises(ValueError, match="sampling_steps must be an integer from 1 to 1000, got 0"):
        model.sample(2, seed=0, sampling_steps=0)
    with pytest.raises(zoo.ConfigError, match="attention_levels needs one entry per level"):
        zoo.create_gan("ddpm", resolution=16, channels=(32, 32), attention_levels=(False,))
    with pytest.raises(zoo.ConfigError, match="not multiples of norm_num_groups=32"):
        zoo.create_gan("ddpm", resolution=16, channels=(32, 48), attention_levels=(False, False))


def test_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    common = dict(resolution=16, progress=False, checkpoint_every=2, sample_every=100, dataset_config=DATA,
                  gan_config=TINY)
    zoo.train("ddpm", "acdc-phantom", out=tmp_path / "whole", steps=4, **common)
    zoo.train("ddpm", "acdc-phantom", out=tmp_path / "part", steps=2, **common)
    zoo.train("ddpm", "acdc-phantom", out=tmp_path / "part", steps=4, resume=True, **common)
    a = load_file(str(tmp_path / "whole" / "checkpoints" / "last.safetensors"))
    b = load_file(str(tmp_path / "part" / "checkpoints" / "last.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert {k.split(".")[0] for k in a} == {"generator", "generator_ema", "optim", "rng"}  # no discriminator


def test_the_study_writes_gan_and_diffusion_rows_each_with_its_near_copy_fraction(tmp_path):
    pairs = ("ddpm.preset=fast", "ddpm.channels=[32,32]", "ddpm.attention_levels=[false,true]",
             "ddpm.num_head_channels=32", "ddpm.batch_size=4", "ddpm.sampling_steps=3", "dcgan.g_filters=8",
             "dcgan.d_filters=8", "ddpm-spade.preset=fast", "ddpm-spade.channels=[8,16]",
             "ddpm-spade.attention_levels=[false,false]", "ddpm-spade.norm_num_groups=8",
             "ddpm-spade.spade_intermediate_channels=8", "ddpm-spade.batch_size=4", "ddpm-spade.sampling_steps=3",
             "ddpm-spade.mask_filters=8", "prdc.features=pixels")
    tiny = [f"--set={pair}" for pair in pairs]
    args = ["study", "--gans", "dcgan,ddpm,ddpm-spade", "--datasets", "acdc-phantom", "--steps", "2",
            "--resolution", "32", "-n", "8", "--metrics", "prdc", "--no-report", "--set", "dataset.train_subjects=2",
            "--set", "dataset.test_subjects=1", *tiny, "--out", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "table2.csv").open()))
    assert [r["source"] for r in rows] == ["dcgan", "ddpm", "ddpm-spade"]
    assert [r["masks"] for r in rows] == ["generated with the image"] * 2 + [
        "generated by the mask DCGAN, then the diffusion model's image"]
    # memorisation was not named, yet every model has its near-copy fraction (a column of every study)
    assert all(0 <= float(r["memorisation"]) <= 1 and r["prdc"] for r in rows)
    header = (tmp_path / "table2.md").read_text().splitlines()[4]
    assert "near-copies (↓)" in header and "coverage (↑)" in header
    assert zoo.load(tmp_path / "ddpm-acdc-phantom").gan.config.channels == (32, 32)
    other = [arg.replace("=ddpm.channels=[32,32]", "=ddpm.channels=[64,64]") for arg in args]
    again = CliRunner().invoke(cli, other)  # the folder holds a model of other settings: not reused silently
    assert again.exit_code == 1 and "trained with channels=[32, 32], not channels=[64, 64]" in again.output
    bad = CliRunner().invoke(cli, ["study", "--gans", "dcgan", "--datasets", "acdc-phantom", "--set",
                                   "dcgan.nonsense=1", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 1 and "has no config field 'nonsense'" in bad.output  # before any work
    assert not (tmp_path / "bad").exists()


def test_a_turing_test_is_drawn_from_a_diffusion_model(run, tmp_path):
    result = CliRunner().invoke(cli, ["turing-test", "create", str(run), "--dataset", "acdc-phantom", "-n", "6",
                                      "--raters", "1", "--practice", "2", "--seed", "0", "--set",
                                      "dataset.train_subjects=2", "--set", "dataset.test_subjects=1",
                                      "--out", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    assert len([p for p in (tmp_path / "study").rglob("*.png")]) >= 6


class _ExactDenoiser(torch.nn.Module):
    """The optimal noise prediction for data x0 ~ N(MEAN, STD^2) elementwise: E[eps | x_t] =
    sqrt(1 - a) (x_t - sqrt(a) MEAN) / (a STD^2 + 1 - a), a = alpha-bar of the timestep. A correct
    sampler turns noise into samples of that distribution."""

    MEAN, STD = 0.1, 0.3

    def __init__(self, alphas_cumprod: torch.Tensor):
        super().__init__()
        self.alphas_cumprod = alphas_cumprod

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod[timesteps.cpu()].to(x).view(-1, 1, 1, 1)
        return (1 - a).sqrt() * (x - a.sqrt() * self.MEAN) / (a * self.STD**2 + 1 - a)


@pytest.mark.parametrize(("sampler", "steps", "low", "high"), [
    ("ddpm", 1000, 0.28, 0.31), ("ddim", 1000, 0.28, 0.31), ("ddpm", 50, 0.24, 0.27), ("ddim", 50, 0.26, 0.29),
    ("ddim", 10, 0.17, 0.20)])
def test_each_sampler_turns_noise_into_the_data_distribution(sampler, steps, low, high):
    """With the exact denoiser of N(0.1, 0.3^2) data, samples have that mean and about that spread: the full
    chains 0.29-0.30, strided ones a little less (DDIM's discretisation shrinks it: 0.185 at 10 steps on the
    linear schedule). A sampler stepping to other timesteps than it denoises leaves noise (DDPMScheduler.step
    on a strided chain: 0.65-0.69) or drifts (MONAI's linspace timesteps with its stride: 0.24 at 10 steps)."""
    model = zoo.create_gan("ddpm", resolution=16, with_discriminator=False, **TINY)
    denoiser = _ExactDenoiser(model.noise_schedule.alphas_cumprod)
    z = torch.randn(32, model.latent_dim, generator=torch.Generator().manual_seed(0))
    out = model.generate(z, denoiser, seeds=torch.arange(32), sampler=sampler, sampling_steps=steps)
    assert out.mean().item() == pytest.approx(0.1, abs=0.02)
    assert low < out.std().item() < high, out.std().item()
