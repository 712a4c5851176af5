"""The training engine: outputs, resume bit for bit, divergence, interruption, learning."""

from __future__ import annotations

import csv
import json
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

import medgan_zoo as zoo
from medgan_zoo.errors import MedganZooError
from medgan_zoo.gans.dcgan_family import DcganFamilyGAN
from medgan_zoo.training.checkpoint import read_checkpoint
from medgan_zoo.training.errors import DivergenceError, TrainingInterrupted

DATA = {"train_subjects": 2, "test_subjects": 1}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 16, "batch_size": 4}
QUIET = {"progress": False, "log_every": 2, "sample_every": 1000}


def run(out, steps, resume=False, gan="dcgan", gan_config=None, **settings):
    return zoo.train(gan, "acdc-phantom", out=out, resolution=32, steps=steps, resume=resume,
                     dataset_config=DATA, gan_config={**TINY, **(gan_config or {})}, **{**QUIET, **settings})


def test_run_folder_is_a_loadable_model(tmp_path):
    result = run(tmp_path / "run", 4, checkpoint_every=2, sample_every=2)
    out = result.out
    for name in ("config.json", "model.safetensors", "README.md", "samples.png", "metrics.csv", "train.json",
                 "checkpoints/last.safetensors", "samples/step_0000002.png", "samples/step_0000004.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["gan"] == "dcgan" and config["plugin_distribution"] == "medgan-zoo"
    assert config["dataset"] == "acdc-phantom" and config["label_map"]["3"] == "left ventricle"
    assert config["gan_config"]["num_classes"] == 4 and config["gan_config"]["resolution"] == 32
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["2", "4"] and {"loss_d", "loss_g", "images_per_second"} <= set(rows[0])
    samples = zoo.load(out).sample(3, seed=0)
    assert samples.images.shape == (3, 1, 32, 32)


@pytest.mark.parametrize(("gan", "extra"), [
    ("wgan-gp", {"n_critic": 2, "augment": True, "diffaugment": ["color", "translation", "cutout"],
                 "ema": True}),
    ("wgan", {"n_critic": 2}),
])
def test_resume_continues_bit_for_bit(tmp_path, gan, extra):
    whole = run(tmp_path / "whole", 6, gan=gan, gan_config=extra, checkpoint_every=3)
    part = tmp_path / "part"
    run(part, 3, gan=gan, gan_config=extra, checkpoint_every=3)
    run(part, 6, resume=True, gan=gan, gan_config=extra, checkpoint_every=3)
    a = load_file(whole.out / "checkpoints/last.safetensors")
    b = load_file(part / "checkpoints/last.safetensors")
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    rows = list(csv.DictReader((part / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["2", "3", "4", "6"]  # the first run logged its last step, 3


def test_resume_refuses_a_changed_schedule_and_fresh_runs_refuse_old_folders(tmp_path):
    out = tmp_path / "run"
    run(out, 2)
    with pytest.raises(MedganZooError, match="pass --resume"):
        run(out, 4)
    with pytest.raises(MedganZooError, match="different seed"):
        run(out, 4, resume=True, seed=5)
    with pytest.raises(MedganZooError, match="nothing to resume"):
        run(tmp_path / "empty", 4, resume=True)


def test_corrupt_checkpoint_is_refused_on_resume(tmp_path):
    out = tmp_path / "run"
    run(out, 2)
    checkpoint = out / "checkpoints/last.safetensors"
    checkpoint.write_bytes(checkpoint.read_bytes()[:64])
    with pytest.raises(MedganZooError, match="cannot read checkpoint .*last.safetensors"):
        run(out, 4, resume=True)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    original = DcganFamilyGAN.train_step

    def step(self, ctx):
        logs = original(self, ctx)
        if ctx.step >= 7:
            logs["loss_d"] = logs["loss_d"] * float("nan")
        return logs

    monkeypatch.setattr(DcganFamilyGAN, "train_step", step)
    out = tmp_path / "run"
    with pytest.raises(DivergenceError, match=r"diverged at step 8 \(loss_d=nan.*last good checkpoint is step 4"):
        run(out, 20, checkpoint_every=4, check_every=2, log_every=100)
    _, meta = read_checkpoint(out / "checkpoints/last.safetensors")
    assert meta["step"] == 4


def test_exploding_loss_counts_as_divergence(tmp_path, monkeypatch):
    original = DcganFamilyGAN.train_step
    monkeypatch.setattr(DcganFamilyGAN, "train_step",
                        lambda self, ctx: {**original(self, ctx), "loss_g": torch.tensor(1e9)})
    with pytest.raises(DivergenceError, match="no checkpoint was written yet"):
        run(tmp_path / "run", 4, check_every=1)


def test_ctrl_c_finishes_the_step_checkpoints_and_resumes(tmp_path, monkeypatch):
    original = DcganFamilyGAN.train_step

    def step(self, ctx):
        if ctx.step == 5:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of step 5
        return original(self, ctx)

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(DcganFamilyGAN, "train_step", step)
        with pytest.raises(TrainingInterrupted, match="interrupted after step 5; checkpoint at step 5"):
            run(out, 8, checkpoint_every=100)
    _, meta = read_checkpoint(out / "checkpoints/last.safetensors")
    assert meta["step"] == 5
    whole = run(tmp_path / "whole", 8, checkpoint_every=100)
    run(out, 8, resume=True, checkpoint_every=100)
    a = load_file(whole.out / "model.safetensors")
    b = load_file(out / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_exception_mid_step_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    original = DcganFamilyGAN.train_step

    def step(self, ctx):
        if ctx.step == 5:
            raise KeyboardInterrupt  # e.g. a second Ctrl-C: the step's state is half-updated
        return original(self, ctx)

    monkeypatch.setattr(DcganFamilyGAN, "train_step", step)
    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted, match="interrupted during step 5; checkpoint at step 4"):
        run(out, 8, checkpoint_every=2)
    _, meta = read_checkpoint(out / "checkpoints/last.safetensors")
    assert meta["step"] == 4


def test_bad_settings_are_clear(tmp_path):
    with pytest.raises(zoo.ConfigError, match="field 'steps'"):
        run(tmp_path / "run", 0)
    with pytest.raises(zoo.ConfigError, match="unknown key 'log_evry'"):
        zoo.train("dcgan", "acdc-phantom", out=tmp_path / "x", log_evry=3)
    with pytest.raises(zoo.UnknownNameError, match="did you mean 'acdc-phantom'"):
        zoo.train("dcgan", "acdc-phantm", out=tmp_path / "x")
    with pytest.raises(zoo.ConfigError, match="not 48"):
        zoo.train("dcgan", "acdc-phantom", out=tmp_path / "x", resolution=48, dataset_config=DATA)


def _class_frequencies(masks: torch.Tensor) -> torch.Tensor:
    return torch.bincount(masks.flatten().long(), minlength=4).float() / masks.numel()


def _histogram(images: torch.Tensor) -> torch.Tensor:
    return torch.histc(images.flatten(), bins=16, min=-1, max=1) / images.numel()


def test_learning_moves_samples_towards_the_data(tmp_path):
    """After a short run, the generated masks' class frequencies and the images' intensity
    histogram are much closer to the data's than an untrained generator's."""
    data = zoo.load_dataset("acdc-phantom", resolution=32, train_subjects=6, test_subjects=1)
    target_classes, target_hist = _class_frequencies(data.masks), _histogram(data.images)
    settings = dict(resolution=32, dataset_config={"train_subjects": 6, "test_subjects": 1},
                    gan_config={"g_filters": 16, "d_filters": 16, "batch_size": 16}, **QUIET)
    untrained = zoo.train("dcgan", "acdc-phantom", out=tmp_path / "zero", steps=1, **settings).load()
    trained = zoo.train("dcgan", "acdc-phantom", out=tmp_path / "trained", steps=200, **settings).load()

    def distances(model):
        samples = model.sample(128, seed=0)
        classes = (_class_frequencies(samples.masks) - target_classes).abs().sum().item()
        return classes, (_histogram(samples.images) - target_hist).abs().sum().item()

    classes_before, hist_before = distances(untrained)
    classes_after, hist_after = distances(trained)
    assert classes_after < 0.25 * classes_before
    assert hist_after < 0.8 * hist_before


def test_tensorboard_without_the_package_says_how_to_get_it(tmp_path):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        result = run(tmp_path / "run", 2, tensorboard=True)
        assert any((result.out / "tensorboard").iterdir())
    else:
        with pytest.raises(MedganZooError, match="pip install tensorboard"):
            run(tmp_path / "run", 2, tensorboard=True)
