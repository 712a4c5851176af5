"""The hyper-parameter search (issue: Table 1 on Optuna): the space as data with its conditions,
pruning, failed trials, resuming a study, the report and the best model, bad input; several worker
processes on one journal file."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

import medgan_zoo as zoo
from medgan_zoo import MetricResult, MetricSpec, PluginConfig, hookimpl
from medgan_zoo.errors import ConfigError, MedganZooError
from medgan_zoo.registry import PluginSource, Registry, use_registry

optuna = pytest.importorskip("optuna")

from medgan_zoo.search.space import load_space  # noqa: E402

DATA = {"train_subjects": 2, "test_subjects": 1}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4, "vgg_weight": 0}

# The paper's Table 1, row by row (Skandarani et al., Table 1): config field -> values.
TABLE1 = {
    "diffaugment": [[], ["color", "translation", "cutout"]],
    "d_activation": ["relu", "leaky-relu", "elu", "selu"],
    "g_activation": ["relu", "leaky-relu", "elu", "selu"],
    "d_norm": ["batch", "instance"],
    "g_norm": ["batch", "instance"],
    "d_filters": [16, 32, 64, 128],
    "g_filters": [16, 32, 64, 128],
    "d_spectral_norm": [True, False],
    "g_spectral_norm": [True, False],
    "init": ["normal", "xavier", "xavier-uniform", "kaiming"],
    "init_gain": [0.01, 0.02, 0.1, 1.0],
    "gp_weight": [0.0, 0.1, 1.0, 10.0],
    "clip_value": [0.0, 0.01, 0.1],
    "feature_matching_weight": [0.0, 1.0, 10.0],
    "vgg_weight": [0.0, 1.0, 10.0],
    "lr": [4e-5, 5e-5, 1e-4, 2e-4, 1e-3],
    "label_smoothing": [0.0, 0.1],
    "augment": [False, True],
}


def test_the_default_space_is_table_1():
    space = load_space()
    assert {space.field(n): p.values for n, p in space.parameters.items()} == TABLE1
    assert space.parameters["gp_weight"].only == ["wgan-gp"] and space.parameters["clip_value"].only == ["wgan"]
    for name in space.parameters:
        space.check("dcgan")  # every value is legal for the GANs that sample it
        assert space.parameters[name].table1


@pytest.mark.parametrize("gan, has, lacks", [
    ("wgan", {"clip_value", "lr", "d_filters"}, {"gp_weight", "label_smoothing"}),
    ("wgan-gp", {"gp_weight", "d_norm"}, {"clip_value", "label_smoothing"}),
    ("dcgan", {"label_smoothing", "diffaugment", "augment"}, {"gp_weight", "clip_value"}),
    ("hingegan", {"d_spectral_norm"}, {"gp_weight", "clip_value", "label_smoothing"}),
])
def test_a_gan_samples_only_the_parameters_it_has(gan, has, lacks):
    params = load_space().for_gan(gan)
    assert has <= set(params) and not (lacks & set(params))


def test_spade_samples_only_its_own_fields_and_set_pins_a_parameter():
    space = load_space()
    fields = zoo.get_registry().gans["spade"].config.model_fields if "spade" in zoo.get_registry().gans else None
    if fields is None:
        pytest.skip("the SPADE plugin is not installed")
    assert set(space.for_gan("spade")) == {n for n in space.parameters if space.field(n) in fields}
    assert "lr" not in space.for_gan("dcgan", {"lr": 1e-4})


@pytest.mark.parametrize("body, message", [
    ({"lr": {"valuez": [1e-4]}}, r"parameter 'lr': unknown key 'valuez' \(did you mean 'values'\?\)"),
    ({"d_filterz": {"values": [16]}}, r"parameter 'd_filterz': no installed GAN has a config field 'd_filterz' "
                                      r"\(did you mean 'd_filters'\?\)"),
    ({"gp_weight": {"values": [1.0], "only": ["wgan_gp"]}}, r"unknown GAN 'wgan_gp' in only \(did you mean "
                                                             r"'wgan-gp'\?\)"),
    ({"d_filters": {"values": [4, 16]}}, r"parameter 'd_filters': value 4 is not legal for gan 'dcgan'"),
    ({"lr": {"low": 1e-3, "high": 1e-4}}, r"parameter 'lr': a range needs low < high"),
])
def test_a_bad_space_file_names_the_file_and_the_key(tmp_path, body, message):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"parameters": body}))
    with pytest.raises(ConfigError, match=message) as info:
        load_space(path).check("dcgan")
    assert str(path) in str(info.value)


def test_bad_arguments_fail_before_any_trial(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="--trials must be at least 1"):
        zoo.sweep("dcgan", "acdc-phantom", trials=0, study="s", out=tmp_path / "s")
    with pytest.raises(zoo.UnknownNameError, match="dcgna"):
        zoo.sweep("dcgna", "acdc-phantom", trials=1, study="s", out=tmp_path / "s")
    with pytest.raises(ConfigError, match="d_filterz"):
        zoo.sweep("dcgan", "acdc-phantom", trials=1, study="s", out=tmp_path / "s", fixed={"d_filterz": 8})
    # FID without Inception weights: refused, saying how to provide them, before any training
    monkeypatch.delenv("MEDGAN_ZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ConfigError, match="objective 'fid' cannot be computed on this machine: .*Inception"):
        zoo.sweep("dcgan", "acdc-phantom", trials=1, study="s", out=tmp_path / "s", objective="fid", fixed=TINY)
    assert not (tmp_path / "s" / "trials").exists()


def test_an_unreachable_storage_is_one_line_without_the_password(tmp_path):
    pytest.importorskip("psycopg")
    from medgan_zoo.search.storage import StorageError, StudyStorage

    with pytest.raises(StorageError) as info:
        StudyStorage("postgresql://lab:hunter2@127.0.0.1:1/sweeps", tmp_path).optuna.get_all_studies()
    text = str(info.value)
    assert "127.0.0.1:1/sweeps" in text and "hunter2" not in text and "\n" not in text
    with pytest.raises(ConfigError, match="use a journal file path"):
        StudyStorage("redis://localhost", tmp_path)


# -- a study with a scripted objective: pruning, failure, resume, report, best -------------------------

SCRIPT: list[float] = []
SCRIPT_UP: list[float] = []


class Scripted:
    """A stand-in objective: returns the next scripted value (pruning becomes deterministic)."""

    def __init__(self, config):
        self.config = config

    def __call__(self, ctx) -> MetricResult:
        return MetricResult(values={"score": SCRIPT.pop(0)}, headline="score", reference={"score": 0.0})


class ScriptedUp(Scripted):
    def __call__(self, ctx) -> MetricResult:
        return MetricResult(values={"up": SCRIPT_UP.pop(0)}, headline="up", reference={"up": 1.0})


@hookimpl
def register_metrics(register):
    register(MetricSpec(name="scripted", summary="Scripted values for tests.", better="lower",
                        config=PluginConfig, factory=Scripted))
    register(MetricSpec(name="scripted-up", summary="Scripted values, higher is better.", better="higher",
                        config=PluginConfig, factory=ScriptedUp))


@pytest.fixture
def scripted():
    module = types.ModuleType("scripted_metric")
    module.register_metrics = register_metrics
    registry = Registry.load([PluginSource.of(module, "scripted-metric", "0.1")], builtins=True)
    with use_registry(registry):
        yield


def _space(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"parameters": {"lr": {"values": [2e-4, 1e-4, 5e-5, 4e-5]},
                                                   "d_norm": {"values": ["batch", "instance"]}}}))
    return path


def test_prune_fail_resume_report_and_best(scripted, tmp_path, monkeypatch):
    from medgan_zoo.training.callbacks.divergence import DivergenceCheck
    from medgan_zoo.training.errors import DivergenceError

    original_check = DivergenceCheck.check

    def diverge_in_trial_2(self, state):
        if state.out.name.startswith("0002-"):
            raise DivergenceError(f"training diverged at step {state.step} (loss_d=nan)")
        return original_check(self, state)

    monkeypatch.setattr(DivergenceCheck, "check", diverge_in_trial_2)
    study = dict(study="s", out=tmp_path / "s", space=_space(tmp_path), objective="scripted", resolution=32,
                 steps=4, checkpoint_every=2, startup_trials=1, fixed=TINY, dataset_config=DATA, scale="quick",
                 samples=8, progress=False)
    # trial 0 scores 1.0 at step 2 and at the end; trial 1 scores 5.0 at step 2 (worse than the median
    # of one finished trial: pruned); trial 2 diverges (failed, with its reason); the study goes on
    SCRIPT[:] = [1.0, 1.0, 5.0]
    result = zoo.sweep("dcgan", "acdc-phantom", trials=3, **study)
    states = {r["trial"]: r["state"] for r in result.rows}
    assert states == {0: "complete", 1: "pruned", 2: "fail"}
    assert result.rows[0]["param:lr"] == 2e-4 and result.rows[0]["param:d_norm"] == "batch"  # defaults first
    assert result.rows[1]["pruned_at"] == 2
    assert "diverged at step 2" in result.rows[2]["reason"]
    assert SCRIPT == []
    # the same command with a larger total continues the count: trials 0-2 are not run again
    SCRIPT[:] = [0.5, 0.5]
    result = zoo.sweep("dcgan", "acdc-phantom", trials=4, **study)
    assert [r["trial"] for r in result.rows] == [0, 1, 2, 3] and result.rows[3]["state"] == "complete"
    assert result.best[0]["trial"] == 3 and SCRIPT == []
    # another objective under the same name is refused, naming what differs
    with pytest.raises(ConfigError, match="exists with other settings.*steps: 4 -> 6"):
        zoo.sweep("dcgan", "acdc-phantom", trials=4, **{**study, "steps": 6})

    from medgan_zoo.search import export_best, status_text, write_report

    text = status_text("s", folder=tmp_path / "s")
    assert "4 finished, 0 running, 0 waiting" in text and "best: trial 3" in text
    report = write_report([str(tmp_path / "s")], tmp_path / "report")
    with (tmp_path / "report" / "trials.csv").open() as handle:
        assert [int(r["trial"]) for r in csv.DictReader(handle)] == [0, 1, 2, 3]
    body = report.read_text()
    assert "Best trial 3" in body and "diverged at step 2" in body
    # Fig. 3 shows every trial: the failed one (no score: it diverged before its first checkpoint) is
    # counted and drawn above the axis break; the caption says what the boxes hold and how it searched
    assert "dcgan on acdc-phantom: 2 completed, 1 pruned, 1 failed" in body
    assert "Boxes are of **completed trials only**" in body and "tpe sampler, median pruner" in body
    assert "`--sampler random --pruner none`" in body
    assert "No figure: no study searched `d_filters` (s fixed it to 8)" in body  # Fig. 4 says why it is empty
    for figure in ("fig3_objective_per_gan.png", "history_s.png", "best_s_3.png"):
        assert (tmp_path / "report" / figure).stat().st_size > 1000, figure
    trial, folder = export_best("s", tmp_path / "best", folder=tmp_path / "s")
    assert trial == 3 and len(zoo.load(folder).sample(2, seed=0)) == 2
    with pytest.raises(ConfigError, match="not a sweep report folder"):
        write_report([str(tmp_path / "s")], tmp_path / "s" / "trials")


def test_two_objectives_give_a_pareto_front_and_studies_share_one_report(scripted, tmp_path):
    common = dict(space=_space(tmp_path), objective="scripted,scripted-up", resolution=32, steps=2,
                  checkpoint_every=1, fixed=TINY, dataset_config=DATA, scale="quick", samples=8, progress=False)
    # (lower, higher): trial 1 dominates trial 0; trials 1 and 2 trade one for the other
    SCRIPT[:], SCRIPT_UP[:] = [3.0, 1.0, 0.5], [0.2, 0.8, 0.6]
    a = zoo.sweep("dcgan", "acdc-phantom", trials=3, study="a", out=tmp_path / "a", **common)
    assert {r["trial"] for r in a.best} == {1, 2}  # the front; no trial was pruned (two objectives)
    assert all(r["state"] == "complete" for r in a.rows)
    SCRIPT[:], SCRIPT_UP[:] = [2.0, 2.5], [0.5, 0.4]
    zoo.sweep("lsgan", "acdc-phantom", trials=2, study="b", out=tmp_path / "b", **common)
    with pytest.raises(ConfigError, match="exists with other settings.*objectives"):
        zoo.sweep("lsgan", "acdc-phantom", trials=2, study="b", out=tmp_path / "b",
                  **{**common, "objective": "scripted"})

    from medgan_zoo.search import export_best, write_report

    report = write_report([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "report").read_text()
    for name in ("fig3_objective_per_gan.png", "pareto_a.png", "pareto_b.png"):
        assert (tmp_path / "report" / name).stat().st_size > 1000, name
    assert "## a: dcgan" in report and "## b: lsgan" in report
    with (tmp_path / "report" / "trials.csv").open() as handle:
        assert [(r["study"], r["trial"]) for r in csv.DictReader(handle)] == [
            ("a", "0"), ("a", "1"), ("a", "2"), ("b", "0"), ("b", "1")]
    assert export_best("a", tmp_path / "by-up", folder=tmp_path / "a", by="scripted-up")[0] == 1
    assert export_best("a", tmp_path / "by-low", folder=tmp_path / "a")[0] == 2


# -- several processes on one journal file -------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "medgan_zoo", *args]


def test_two_worker_processes_share_a_journal_file_without_losing_or_repeating_a_trial(tmp_path):
    """The issue's 6-trial study: a tiny DCGAN on the phantom at 32x32, U-Net FD at quick scale,
    run by `--workers 2` (two processes on the study's journal file)."""
    out = tmp_path / "six"
    sets = [f"--set={k}={v}" for k, v in TINY.items()] + [f"--set=dataset.{k}={v}" for k, v in DATA.items()]
    done = subprocess.run(_cli("sweep", "run", "dcgan", "--dataset", "acdc-phantom", "--trials", "6", "--study", "six",
                               "--objective", "unet-fd", "--scale", "quick", "-n", "16", "--eval-set",
                               "unet-fd.steps=20", "--resolution", "32", "--steps", "4", "--checkpoint-every", "2",
                               "--pruner", "none", "--workers", "2", "--out", str(out), *sets),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(study_name="six", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "journal.log"))))
    trials = study.get_trials()
    assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
    workers = {t.user_attrs["worker"]["pid"] for t in trials}
    assert len(workers) == 2  # both processes ran trials
    folders = [t.user_attrs["folder"] for t in trials]
    assert len(set(folders)) == 6 and all((out / f / "model.safetensors").is_file() for f in folders)
    logs = sorted((out / "workers").glob("worker-*.log"))
    assert len(logs) == 2 and all("complete: unet-fd" in log.read_text() for log in logs)
    assert "| trial | state | unet-fd |" in done.stdout


def test_the_sweep_command_refuses_a_train_setting(tmp_path):
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    result = CliRunner().invoke(cli, ["sweep", "run", "dcgan", "--dataset", "acdc-phantom", "--trials", "1",
                                      "--study", "x", "--set", "train.steps=3", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "a sweep sets training with --steps" in result.output
    result = CliRunner().invoke(cli, ["sweep", "status", "nothing", "--from", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no study 'nothing'" in result.output


def test_missing_extra_is_named(monkeypatch):
    import importlib.util

    from medgan_zoo.search.needs import require_optuna

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    with pytest.raises(MedganZooError, match=r"pip install 'medgan-zoo\[sweep\]'"):
        require_optuna()


def test_settings_of_a_study_are_json(tmp_path):
    from medgan_zoo.search.settings import SweepSettings

    s = SweepSettings(gan="dcgan", dataset="acdc-phantom", space={"parameters": {}})
    assert SweepSettings.model_validate(json.loads(s.to_json())) == s


def test_a_value_legal_only_beside_a_fixed_setting_is_checked_with_it():
    if "stylegan2" not in zoo.get_registry().gans:
        pytest.skip("the StyleGAN2 plugin is not installed")
    space = load_space()
    with pytest.raises(ConfigError, match=r"'diffaugment'.*set ada=false to use diffaugment.*fix settings with --set"):
        space.check("stylegan2")
    space.check("stylegan2", {"ada": False})  # DiffAugment rows are legal once ADA is off
    assert "diffaugment" in space.for_gan("stylegan2", {"ada": False})


def test_ctrl_c_in_a_sweep_advises_the_same_command_and_it_continues(scripted, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from medgan_zoo.cli import cli
    from medgan_zoo.training.callbacks.signals import StopOnSignal

    original = StopOnSignal.on_step
    pressed = []

    def ctrl_c_once(self, state, control):
        if state.step == 2 and not pressed:
            pressed.append(state.out.name)
            self.signals.requested = True
        return original(self, state, control)

    monkeypatch.setattr(StopOnSignal, "on_step", ctrl_c_once)
    args = ["sweep", "run", "dcgan", "--dataset", "acdc-phantom", "--trials", "1", "--study", "c",
            "--out", str(tmp_path / "c"), "--space", str(_space(tmp_path)), "--objective", "scripted",
            "--resolution", "32", "--steps", "4", "--checkpoint-every", "2", "--scale", "quick", "-n", "8",
            *[f"--set={k}={v}" for k, v in TINY.items()],
            *[f"--set=dataset.{k}={v}" for k, v in DATA.items()]]
    SCRIPT[:] = [1.0, 1.0, 1.0]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and pressed, result.output
    assert "resumes from its checkpoint with the same `medgan-zoo sweep run` command" in result.output
    assert "--resume" not in result.output.replace("no --resume", "")
    again = CliRunner().invoke(cli, args)  # the advice: the same command
    assert again.exit_code == 0, again.output
    assert "(again, for trial 0, resuming its checkpoint)" in again.output and "complete" in again.output


def test_the_first_checkpoints_score_speaks_while_it_trains_its_u_net(tmp_path):
    study = dict(study="speaks", out=tmp_path / "s", objective="unet-fd", resolution=32, steps=2,
                 checkpoint_every=1, fixed=TINY, dataset_config=DATA, scale="quick", samples=8, progress=True,
                 metric_config={"unet-fd": {"steps": 100, "encoder_depth": 3, "decoder_channels": [8, 8, 8],
                                            "batch_size": 4}})
    zoo.sweep("dcgan", "acdc-phantom", trials=1, **study)
    log = (tmp_path / "s" / "sweep.log").read_text()
    assert "reference U-Net on the real pairs (U-Net features; trained once, cached) 100/100" in log
