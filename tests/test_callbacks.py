"""The training loop's events: a user's callback, a plugin's callback, and what happens when one fails."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from pydantic import Field
from safetensors.torch import load_file

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.registry import PluginSource, Registry, use_registry
from medgan_zoo.training.checkpoint import read_checkpoint
from medgan_zoo.training.errors import CallbackError

DATA = {"train_subjects": 2, "test_subjects": 1}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 16, "batch_size": 4}
QUIET = {"progress": False, "log_every": 2, "sample_every": 1000}


def run(out, steps, resume=False, **settings):
    return zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=steps, resume=resume,
                     dataset_config=DATA, gan_config=TINY, **{**QUIET, **settings})


class Recorder(zoo.Callback):
    """Writes down every event with what it could see at that moment."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_start(self, state, control):
        self.events.append(("start", state.step))

    def on_step(self, state, control):
        row = state.metrics.get("step") if control.log else None
        self.events.append(("step", state.step, set(state.logs), row))

    def on_checkpoint(self, state, control):
        _, meta = read_checkpoint(state.out / "checkpoints" / "last.safetensors")
        self.events.append(("checkpoint", state.step, meta["step"]))

    def on_end(self, state, control):
        self.events.append(("end", state.step, (state.out / "model.safetensors").is_file()))

    def on_failure(self, state, control):
        self.events.append(("failure", type(state.error).__name__))

    def on_close(self, state, control):
        self.events.append(("close",))


def test_a_user_callback_sees_every_event_in_order(tmp_path):
    recorder = Recorder()
    run(tmp_path / "run", 4, checkpoint_every=2, callbacks=[recorder])
    losses = {"loss_d", "loss_g"}
    assert recorder.events == [
        ("start", 0),
        ("step", 1, losses, None), ("step", 2, losses, 2), ("checkpoint", 2, 2),  # after the built-in write
        ("step", 3, losses, None), ("step", 4, losses, 4), ("checkpoint", 4, 4),
        ("end", 4, True),  # the model is exported before a user's on_end
        ("close",),
    ]
    # a resumed run starts at its checkpoint
    again = Recorder()
    run(tmp_path / "run", 6, resume=True, checkpoint_every=2, callbacks=[again])
    assert again.events[0] == ("start", 4) and again.events[1][:2] == ("step", 5)


class Explodes(zoo.Callback):
    def on_step(self, state, control):
        if state.step == 5:
            raise RuntimeError("the callback's own bug")


def test_a_callback_that_raises_stops_training_naming_it_and_the_checkpoint_survives(tmp_path):
    recorder = Recorder()
    out = tmp_path / "run"
    with pytest.raises(CallbackError, match=r"callback Explodes raised in on_step at step 5: RuntimeError: "
                                            r"the callback's own bug; training stopped, the checkpoint at step 4 "
                                            r".* is intact"):
        run(out, 8, checkpoint_every=2, callbacks=[Explodes(), recorder])
    assert recorder.events[-2:] == [("failure", "CallbackError"), ("close",)]
    _, meta = read_checkpoint(out / "checkpoints" / "last.safetensors")
    assert meta["step"] == 4
    assert not (out / "model.safetensors").exists()
    # the checkpoint is intact: resuming it gives the run that never failed, bit for bit
    run(out, 8, resume=True, checkpoint_every=2)
    whole = run(tmp_path / "whole", 8, checkpoint_every=2)
    a, b = load_file(out / "model.safetensors"), load_file(whole.out / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_cli_prints_one_line_for_a_failing_callback(tmp_path, monkeypatch):
    class Broken(zoo.Callback):
        def on_start(self, state, control):
            raise ValueError("no")

    from medgan_zoo.training import engine

    original = engine.Trainer.__init__

    def with_broken(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.user_callbacks.append(Broken())

    monkeypatch.setattr(engine.Trainer, "__init__", with_broken)
    result = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--resolution", "32",
                                      "--steps", "2", "--set", "g_filters=8", "--set", "d_filters=8",
                                      "--set", "dataset.train_subjects=2", "--set", "dataset.test_subjects=1",
                                      "--set", "train.progress=false", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: callback Broken raised in on_start at step 0: ValueError: no; training stopped, no checkpoint was "
        "written yet (fix the callback and run the same command with --resume)"]


class StopAtThree(zoo.Callback):
    def on_step(self, state, control):
        if state.step == 3:
            control.request_stop()


def test_a_requested_stop_ends_normally_with_a_checkpoint_and_the_model(tmp_path):
    result = run(tmp_path / "run", 10, checkpoint_every=100, callbacks=[StopAtThree()])
    assert result.steps == 3
    _, meta = read_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert meta["step"] == 3
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["steps"] == 3
    assert zoo.load(tmp_path / "run").sample(2, seed=0).images.shape == (2, 1, 32, 32)


def test_an_object_that_is_no_callback_is_refused_before_training(tmp_path):
    with pytest.raises(TypeError, match="<object object at .*> is not a training callback: it has none of on_start"):
        run(tmp_path / "run", 2, callbacks=[object()])
    assert not (tmp_path / "run" / "train.json").exists()


# -- a callback plugin ---------------------------------------------------------------------------


class EveryNConfig(zoo.PluginConfig):
    every: int = Field(default=2, ge=1, description="Steps between lines.")


class StepLog(zoo.Callback):
    def __init__(self, config: EveryNConfig) -> None:
        self.every = config.every

    def on_step(self, state, control):
        if state.main and state.step % self.every == 0:
            with (state.out / "steps.txt").open("a") as handle:
                handle.write(f"{state.step}\n")


class Failing(zoo.Callback):
    def on_step(self, state, control):
        raise OSError("disk full")


class _Plugin:
    @zoo.hookimpl
    def register_callbacks(self, register):
        register(zoo.CallbackSpec(name="step-log", summary="Writes every n-th step to steps.txt.",
                                  factory=StepLog, config=EveryNConfig))
        register({"name": "failing", "summary": "Always fails.", "factory": lambda config: Failing()})


@pytest.fixture
def plugin_registry():
    registry = Registry.load([PluginSource.of(_Plugin(), "medgan-zoo-steplog", "0.3")], builtins=True)
    with use_registry(registry):
        yield registry


def test_a_plugin_callback_is_listed_and_added_by_name_from_the_cli(plugin_registry, tmp_path):
    listed = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)
    assert {"name": "step-log", "kind": "callback", "distribution": "medgan-zoo-steplog"}.items() <= next(
        row for row in listed if row["name"] == "step-log").items()
    shown = CliRunner().invoke(cli, ["plugins", "show", "callback", "step-log"])
    assert shown.exit_code == 0 and "every" in shown.output
    result = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--resolution", "32",
                                      "--steps", "6", "--set", "g_filters=8", "--set", "d_filters=8",
                                      "--set", "dataset.train_subjects=2", "--set", "dataset.test_subjects=1",
                                      "--set", "train.progress=false", "--callback", "step-log",
                                      "--set", "callback.step-log.every=3", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "steps.txt").read_text().split() == ["3", "6"]
    assert json.loads((tmp_path / "run" / "train.json").read_text())["callback_plugins"] == {"step-log": {"every": 3}}


def test_a_plugin_callback_error_names_the_plugin_and_bad_config_is_refused(plugin_registry, tmp_path):
    with pytest.raises(CallbackError, match=r"callback 'failing' \(medgan-zoo-steplog 0.3\) raised in on_step at "
                                            r"step 1: OSError: disk full"):
        run(tmp_path / "a", 4, callback_plugins={"failing": {}})
    with pytest.raises(zoo.ConfigError, match=r"invalid config for callback 'step-log' \(medgan-zoo-steplog 0.3\): "
                                              r"field 'every'"):
        run(tmp_path / "b", 4, callback_plugins={"step-log": {"every": 0}})
    with pytest.raises(zoo.UnknownNameError, match="step-log"):
        run(tmp_path / "c", 4, callback_plugins={"step-logs": {}})
    bad = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--set", "callback.every=3",
                                   "--out", str(tmp_path / "d")])
    assert bad.exit_code == 2 and "expected callback.NAME.KEY=VALUE" in bad.output


def test_callback_plugins_from_yaml_and_set_merge_and_bad_values_are_one_line(plugin_registry, tmp_path):
    from medgan_zoo.cli.train import train_settings

    config = tmp_path / "run.yaml"
    config.write_text("callback_plugins: [step-log]\n")
    merged = train_settings("dcgan", "acdc-phantom", config, {"callbacks": ("failing",)},
                            ("train.callback_plugins={\"step-log\": {\"every\": 5}}",))
    assert merged["callback_plugins"] == {"step-log": {"every": 5}, "failing": {}}
    config.write_text("callback_plugins: 3\n")
    bad = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--config", str(config),
                                   "--out", str(tmp_path / "run")])
    assert bad.exit_code == 1 and bad.output.startswith(f"Error: {config}: callback_plugins must map callback names")


def test_a_plugin_whose_factory_returns_no_callback_is_named(tmp_path):
    class _Wrong:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register({"name": "wrong", "summary": "Returns a number.", "factory": lambda config: 42})

    registry = Registry.load([PluginSource.of(_Wrong(), "medgan-zoo-wrong", "1.2")], builtins=True)
    with use_registry(registry), pytest.raises(zoo.PluginError, match=r"callback 'wrong' \(medgan-zoo-wrong 1.2\): "
                                                                     r"its factory returned 42, not a training"):
        run(tmp_path / "run", 2, callback_plugins={"wrong": {}})
