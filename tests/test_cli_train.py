"""``medgan-zoo train``, ``sample`` and ``demo`` from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli

SMALL = ["--resolution", "32", "--set", "g_filters=8", "--set", "d_filters=8", "--set", "latent_dim=16",
         "--set", "dataset.train_subjects=2", "--set", "dataset.test_subjects=1", "--set", "train.progress=false"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_train_then_sample(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--steps", "3", "--batch-size", "4",
                                 *SMALL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained dcgan on acdc-phantom for 3 steps" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["gan_config"]["batch_size"] == 4 and config["gan_config"]["g_filters"] == 8
    train = json.loads((out / "train.json").read_text())
    assert train["dataset_config"] == {"train_subjects": 2, "test_subjects": 1} and train["progress"] is False

    samples = tmp_path / "samples"
    result = runner.invoke(cli, ["sample", str(out), "-n", "5", "--out", str(samples), "--format", "npz",
                                 "--seed", "1"])
    assert result.exit_code == 0, result.output
    arrays = np.load(samples / "samples_000000.npz")
    assert arrays["images"].shape == (5, 1, 32, 32) and arrays["masks"].shape == (5, 32, 32)
    result = runner.invoke(cli, ["sample", str(out), "-n", "2", "--out", str(tmp_path / "bad"), "--set", "psi=0.5"])
    assert result.exit_code == 2 and "--set" in result.output and "takes no sampling options" in result.output
    assert not (tmp_path / "bad").exists()  # refused before anything was written

    result = runner.invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--steps", "5", "--batch-size", "4",
                                 *SMALL, "--out", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["training"]["steps"] == 5


def test_train_from_a_yaml_file(runner, tmp_path):
    settings = tmp_path / "run.yaml"
    settings.write_text("steps: 2\nseed: 3\nprogress: false\nresolution: 32\n"
                        "gan_config: {g_filters: 8, d_filters: 8, batch_size: 2, lr: 0.001}\n"
                        "dataset_config: {train_subjects: 2, test_subjects: 1}\n")
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "lsgan", "--dataset", "acdc-phantom", "--config", str(settings),
                                 "--set", "lr=0.002", "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["gan_config"]["lr"] == 0.002  # the command line wins over the file
    assert json.loads((out / "train.json").read_text())["seed"] == 3


@pytest.mark.parametrize(("args", "message"), [
    (["train", "dcgann", "--dataset", "acdc-phantom", "--out", "{tmp}/a"], "did you mean 'dcgan'"),
    (["train", "dcgan", "--dataset", "acdc-phantom", "--set", "train.stepz=3", "--out", "{tmp}/a"],
     "unknown key 'stepz' (did you mean 'steps'?)"),
    (["train", "dcgan", "--dataset", "acdc-phantom", "--set", "lr=-1", *SMALL, "--out", "{tmp}/a"], "field 'lr'"),
    (["train", "dcgan", "--dataset", "acdc-phantom", "--resume", *SMALL, "--out", "{tmp}/a"], "nothing to resume"),
    (["sample", "{tmp}/nowhere", "-n", "3", "--out", "{tmp}/s"], "not a model folder"),
])
def test_faults_are_one_line(runner, tmp_path, args, message):
    result = runner.invoke(cli, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_sample_refuses_non_positive_n(runner, tmp_path):
    result = runner.invoke(cli, ["sample", str(tmp_path), "-n", "0", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "must be positive" in result.output


def test_demo_writes_models_grids_and_report(runner, tmp_path, monkeypatch):
    import medgan_zoo.demo as demo

    recipe = demo.recipe()
    absent = recipe.gans[0].model_copy(update={"gan": "not-installed-gan", "label": "Absent",
                                               "install": "pip install absent"})
    small = {"gans": [*recipe.gans, absent], "dataset_config": {"train_subjects": 3, "test_subjects": 2},
             "samples": 24}
    monkeypatch.setattr(demo, "recipe", lambda: recipe.model_copy(update=small))
    out = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", "--out", str(out), "--steps", "2", "--unet-steps", "2"])
    assert result.exit_code == 0, result.output
    gans = [g for g in recipe.gans if g.gan in zoo.get_registry().gans]
    assert len(gans) == len(recipe.gans) == 2  # the make/CI install has every first-party plugin
    for name in ("report.md", "real.png", "demo.json", "demo.log"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    for g in gans:
        for name in ("config.json", "model.safetensors", "evaluation/evaluation.md"):
            assert (out / g.gan / name).is_file(), f"{g.gan}/{name}"
        assert (out / f"{g.gan}.png").is_file() and f"**{g.label}'s Dice " in report
    assert f"{gans[0].label}: {gans[0].role} | {gans[1].label}: {gans[1].role} | real data |" in report
    assert "**Real data's Dice " in report
    assert (" ± " in report) == (recipe.dice["seeds"] > 1)  # a spread only over several U-Net seeds
    assert "| masks | " in report and "'s masks** are real training masks" in report  # the winner's bank
    assert "2 steps" in report and "Absent (baseline) was not run" in report and "pip install absent" in report
    assert f"**A shortened run** ({gans[0].label} 2 of {gans[0].steps} steps" in report  # says what it is
    numbers = json.loads((out / "demo.json").read_text())
    assert numbers["steps"] == {g.gan: 2 for g in gans} and numbers["dice_protocol"]["steps"] == 2
    assert "original" in numbers["results"][gans[0].gan]["dice"]["sources"]


def test_demo_refuses_non_positive_steps(runner, tmp_path):
    result = runner.invoke(cli, ["demo", "--out", str(tmp_path), "--unet-steps", "0"])
    assert result.exit_code == 2 and "--unet-steps" in result.output and not any(tmp_path.iterdir())


def test_ctrl_c_in_the_demo_advises_a_command_that_continues_it(runner, tmp_path, monkeypatch):
    import shlex

    import medgan_zoo.demo as demo
    from medgan_zoo.training.callbacks.signals import StopOnSignal

    recipe = demo.recipe()
    monkeypatch.setattr(demo, "recipe", lambda: recipe.model_copy(update={
        "dataset_config": {"train_subjects": 3, "test_subjects": 2}, "samples": 24}))
    first = recipe.gans[0].gan
    original = StopOnSignal.on_step
    pressed = []

    def ctrl_c_once(self, state, control):  # Ctrl-C during the first GAN's training, after its checkpoint
        if state.out.name == first and state.step == 3 and not pressed:
            pressed.append(state.step)
            self.signals.requested = True
        return original(self, state, control)

    monkeypatch.setattr(StopOnSignal, "on_step", ctrl_c_once)
    out = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", "--out", str(out), "--steps", "4", "--unet-steps", "2"])
    assert result.exit_code == 1 and pressed == [3]
    advice = result.output.split("continue it with: ", 1)[1].split(" (finished models")[0]
    assert advice == f"medgan-zoo demo --out {out} --resume --steps 4 --unet-steps 2"
    from medgan_zoo.errors import ConfigError

    with pytest.raises(ConfigError, match=r"--resume continues .* as it was started \(steps=4\)"):
        demo.run_demo(out=out, resume=True, steps=9)  # another length would not be the same demo
    again = runner.invoke(cli, shlex.split(advice)[1:])
    assert again.exit_code == 0, again.output
    # Ctrl-C let step 3 finish and checkpointed it: that is where it continued
    assert json.loads((out / first / "config.json").read_text())["training"]["resumed_from"] == [3]
    assert (out / "report.md").is_file()
