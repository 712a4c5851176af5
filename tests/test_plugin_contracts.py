"""One public contract per plugin kind: a third party's loss drives a built-in GAN, a third party's
metric gets a quick scale, a headline and a study column, and the core names no built-in metric."""

from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path

import pytest
import torch
from pydantic import Field

import medgan_zoo as zoo
from medgan_zoo import MetricResult, MetricSpec, PluginConfig, hookimpl
from medgan_zoo.errors import ConfigError
from medgan_zoo.registry import PluginSource, Registry, use_registry

ROOT = Path(__file__).resolve().parents[1]
DATA = {"train_subjects": 2, "test_subjects": 1}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}


def _module(**hooks) -> types.ModuleType:
    module = types.ModuleType("in_test_plugin")
    vars(module).update(hooks)
    return module


@pytest.fixture
def ragan(monkeypatch):
    """The tutorial's loss distribution (tests/plugin_example), importable."""
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugin_example" / "src"))
    import medgan_zoo_ragan

    yield medgan_zoo_ragan
    sys.modules.pop("medgan_zoo_ragan.loss", None)


def test_a_third_party_loss_drives_a_builtin_gan(ragan, tmp_path, monkeypatch):
    from medgan_zoo_ragan.loss import RelativisticAverageLoss

    registry = Registry.load([PluginSource.of(ragan, "medgan-zoo-ragan", "0.1.0")], builtins=True)
    seen = []
    original = RelativisticAverageLoss.generator_loss
    monkeypatch.setattr(RelativisticAverageLoss, "generator_loss",
                        lambda self, fake, real=None: seen.append(real) or original(self, fake, real))
    with use_registry(registry):
        gan = zoo.create_gan("dcgan", resolution=32, loss="ragan", loss_config={"real_label": 0.9}, **TINY)
        assert isinstance(gan.loss, RelativisticAverageLoss) and gan.loss.config.real_label == 0.9
        zoo.train("lsgan", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=2, dataset_config=DATA,
                  gan_config={**TINY, "loss": "ragan"}, progress=False)
        assert len(seen) == 2 and all(r is not None and r.shape[0] == TINY["batch_size"] for r in seen)
        assert zoo.load(tmp_path / "run").info.gan_config["loss"] == "ragan"
        with pytest.raises(ConfigError, match="'gradient-penalty' is a regularizer, not an adversarial loss"):
            zoo.create_gan("dcgan", resolution=32, loss="gradient-penalty")
        with pytest.raises(ConfigError, match="loss_config is set but loss is not"):
            zoo.create_gan("dcgan", resolution=32, loss_config={"real_label": 0.9})
        with pytest.raises(ConfigError, match="real_label"):
            zoo.create_gan("dcgan", resolution=32, loss="ragan", loss_config={"real_label": 2})


def test_train_takes_a_plugin_loss_from_the_command_line(ragan, tmp_path):
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    registry = Registry.load([PluginSource.of(ragan, "medgan-zoo-ragan", "0.1.0")], builtins=True)
    args = ["train", "dcgan", "--dataset", "acdc-phantom", "--resolution", "32", "--steps", "1",
            "--out", str(tmp_path / "run"), "--set", "loss=ragan", "--set", 'loss_config={"real_label": 0.9}',
            *[f"--set={k}={v}" for k, v in TINY.items()], "--set", "dataset.train_subjects=2",
            "--set", "dataset.test_subjects=1", "--set", "train.progress=false"]
    with use_registry(registry):
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())["gan_config"]
    assert config["loss"] == "ragan" and config["loss_config"] == {"real_label": 0.9}


class GapConfig(PluginConfig):
    limit: int = Field(default=0, ge=0, description="Compare at most this many samples (0: all).")


class ClassGap:
    """Mean absolute gap between the class frequencies of generated and real training masks."""

    def __init__(self, config: GapConfig):
        self.config = config

    def __call__(self, ctx) -> MetricResult:
        masks = ctx.samples.masks[: self.config.limit or None].long()
        real = ctx.real("train").masks.long()
        classes = len(ctx.real("train").label_map)

        def freq(m):
            return torch.bincount(m.flatten(), minlength=classes).double() / m.numel()

        gap = float((freq(masks) - freq(real)).abs().mean())
        return MetricResult(values={"class_gap": gap, "compared": len(masks)}, headline="class_gap",
                            reference={"class_gap": 0.0})


@hookimpl
def register_metrics(register):
    register(MetricSpec(name="class-gap", summary="Gap between generated and real mask class frequencies.",
                        better="lower", column="class gap", quick={"limit": 8}, config=GapConfig,
                        factory=ClassGap))


def test_a_third_party_metric_gets_a_quick_scale_a_headline_and_a_study_column(tmp_path):
    registry = Registry.load([PluginSource.of(_module(register_metrics=register_metrics), "medgan-zoo-gap")],
                             builtins=True)
    with use_registry(registry):
        zoo.study(["dcgan"], ["acdc-phantom"], tmp_path, steps=2, n=12, metrics=["class-gap"],
                  dataset_config=DATA, progress=False, report=False)
    record = json.loads((tmp_path / "dcgan-acdc-phantom" / "evaluation" / "evaluation.json").read_text())
    assert record["class-gap"]["compared"] == 8  # the quick preset reached the metric
    assert record["class-gap"]["headline"]["key"] == "class_gap" and record["class-gap"]["reference"] == {
        "class_gap": 0.0}
    table = (tmp_path / "table2.md").read_text()
    assert "| dataset | source | masks | steps | class gap (↓) |" in table
    value = record["class-gap"]["class_gap"]
    assert f"| acdc-phantom | dcgan | generated with the image | 2 | {value:.4g} |" in table  # its own steps


def test_old_and_broken_metric_results(tmp_path):
    class DictMetric:
        def __init__(self, config):
            pass

        def __call__(self, ctx):
            return {"name": "x", "score": 0.25, "other": 2}

    class Broken(DictMetric):
        def __call__(self, ctx):
            return "0.25"

    @hookimpl
    def register_metrics(register):
        register(MetricSpec(name="old-style", summary="A 0.1.0 metric.", better="lower", factory=DictMetric))
        register(MetricSpec(name="broken", summary="Returns text.", better="lower", factory=Broken))

    samples = zoo.Samples(torch.zeros(4, 1, 32, 32), torch.zeros(4, 32, 32, dtype=torch.uint8), 0)
    registry = Registry.load([PluginSource.of(_module(register_metrics=register_metrics), "medgan-zoo-old")],
                             builtins=True)
    with use_registry(registry):
        with pytest.warns(DeprecationWarning, match="metric 'old-style' returned a dict"):
            result = zoo.evaluate(samples, "acdc-phantom", ["old-style"], dataset_config=DATA, progress=False)
        assert result["old-style"]["headline"]["key"] == "score" and result["old-style"]["other"] == 2
        with pytest.raises(zoo.MedganZooError, match="metric 'broken' returned str, not a medgan_zoo.MetricResult"):
            zoo.evaluate(samples, "acdc-phantom", ["broken"], dataset_config=DATA, progress=False)


def test_metric_spec_presets_must_fit_the_config_and_retired_fields_warn():
    with pytest.raises(ValueError, match="quick does not fit GapConfig: unknown key 'limitt' \\(did you mean 'limit'"):
        MetricSpec(name="x", summary="x", better="lower", config=GapConfig, factory=ClassGap, quick={"limitt": 1})
    with pytest.warns(DeprecationWarning, match="needs_masks are ignored"):
        spec = MetricSpec.model_validate({"name": "x", "summary": "x", "better": "lower", "factory": ClassGap,
                                          "needs_masks": True})
    assert spec.default is False and spec.title == "x"


def test_a_plugin_cannot_take_a_builtin_name():
    @hookimpl
    def register_gans(register):
        builtin = zoo.get_registry().gans["dcgan"]
        register(builtin.model_copy(update={"origin": None, "summary": "An impostor."}))

    registry = Registry.load([PluginSource.of(_module(register_gans=register_gans), "medgan-zoo-impostor")],
                             builtins=True)
    assert registry.gans["dcgan"].origin.distribution == "medgan-zoo"  # the built-in keeps working
    (problem,) = [p for p in registry.problems if p.name == "dcgan"]
    assert problem.distribution == "medgan-zoo-impostor" and problem.status == "conflict"
    assert "is medgan-zoo's own; this registration is ignored" in problem.reason


def test_the_harness_study_and_cli_name_no_builtin_metric():
    names = set(zoo.get_registry().metrics)
    assert {"dice", "fid", "unet-fd", "memorisation"} <= names
    for path in ("medgan_zoo/evaluation/harness.py", "medgan_zoo/evaluation/study.py",
                 # the sweep's command names its default objective (fid), as it did before the CLI was split
                 *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "medgan_zoo" / "cli").glob("*.py")
                         if p.name != "sweep.py")):
        tree = ast.parse((ROOT / path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words = set(node.value.replace(",", " ").replace(".", " ").replace("=", " ").split())
                assert not words & names, f"{path}:{node.lineno} names built-in metric(s) {words & names}"


def test_plugins_check_imports_every_factory():
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    @hookimpl
    def register_metrics(register):
        register(MetricSpec(name="ghost", summary="Its module is missing.", better="lower",
                            factory="medgan_zoo_ghost.metric:Ghost"))

    registry = Registry.load([PluginSource.of(_module(register_metrics=register_metrics), "medgan-zoo-ghost")],
                             builtins=True)
    with use_registry(registry):
        listed = CliRunner().invoke(cli, ["plugins"])
        checked = CliRunner().invoke(cli, ["plugins", "--check"])
    assert listed.exit_code == 0 and "ghost" in listed.output  # discovery imports nothing heavy
    assert checked.exit_code == 1
    assert "metric 'ghost' (medgan-zoo-ghost 0): cannot import its factory 'medgan_zoo_ghost.metric:Ghost'" in \
        checked.output.replace("\n", " ")


def test_a_gan_that_changes_only_the_networks_is_a_few_lines(tmp_path):
    from torch import nn

    from medgan_zoo import DcganFamilyConfig, DcganFamilyGAN, GanSpec
    from medgan_zoo.losses.adversarial import HingeLoss

    class WideGenerator(nn.Module):  # any module from z [N, latent] to [N, C+K, H, W] in [-1, 1]
        def __init__(self, config, channels):
            super().__init__()
            self.size, self.channels = config.resolution, channels
            self.net = nn.Sequential(nn.Linear(config.latent_dim, channels * config.resolution ** 2), nn.Tanh())

        def forward(self, z):
            return self.net(z).view(len(z), self.channels, self.size, self.size)

    class LinearGan(DcganFamilyGAN):
        def __init__(self, config, with_discriminator=True):
            super().__init__(config, HingeLoss(), with_discriminator=with_discriminator)
            self.generator = WideGenerator(config, self.output_channels)
            self.enable_ema()  # again: the EMA copies the generator that is now in place

    @hookimpl
    def register_gans(register):
        register(GanSpec(name="linear-gan", summary="A linear generator, the family's step.",
                         config=DcganFamilyConfig, factory=LinearGan))

    registry = Registry.load([PluginSource.of(_module(register_gans=register_gans), "medgan-zoo-linear")],
                             builtins=True)
    with use_registry(registry):
        result = zoo.train("linear-gan", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=2,
                           dataset_config=DATA, gan_config={**TINY, "ema": True, "diffaugment": "translation"},
                           progress=False)
        samples = result.load().sample(3, seed=0)
    assert samples.images.shape == (3, 1, 32, 32) and torch.isfinite(samples.images).all()


def test_a_loss_that_needs_real_outputs_says_so_when_not_given(ragan):
    registry = Registry.load([PluginSource.of(ragan, "medgan-zoo-ragan", "0.1.0")], builtins=True)
    loss = registry.losses["ragan"].create()
    assert loss.generator_needs_real
    with pytest.raises(ValueError, match="ragan needs the discriminator's outputs on real samples"):
        loss.generator_loss(torch.zeros(4))
