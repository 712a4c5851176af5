"""Boundaries that hold: what the disk and other people's code hand over is checked where it enters,
and a fault leaves nothing half-written."""

from __future__ import annotations

import errno
import json

import pytest

optuna = pytest.importorskip("optuna")


# -- the sweep's journal ------------------------------------------------------------------------------

def _half_then_full(handle, data: bytes) -> None:
    handle.write(data[: len(data) // 2])
    handle.flush()
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_journal_append_that_fails_midway_is_undone_and_the_study_goes_on(tmp_path, monkeypatch):
    from medgan_zoo.search import journal
    from medgan_zoo.search.journal import JournalWriteError
    from medgan_zoo.search.storage import StudyStorage

    path = tmp_path / "journal.log"
    study = optuna.create_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s")
    study.tell(study.ask(), 1.0)
    size = path.stat().st_size
    monkeypatch.setattr(journal, "write", _half_then_full)
    with pytest.raises(JournalWriteError, match=r"cannot write the study journal .*journal.log: No space left on "
                                                r"device \(the journal is as it was before this write\)"):
        study.ask()
    assert path.stat().st_size == size  # the half record is gone
    monkeypatch.undo()
    study.tell(study.ask(), 0.5)  # the disk has room again: the same process goes on
    again = optuna.load_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s")
    assert [t.value for t in again.trials] == [1.0, 0.5]


def test_a_journal_damaged_mid_file_is_repaired_on_open_with_one_line(tmp_path):
    from medgan_zoo.search.storage import StudyStorage

    path = tmp_path / "journal.log"
    study = optuna.create_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s")
    study.tell(study.ask(), 1.0)
    good = path.read_bytes()
    # what Optuna's own backend leaves after a full disk and two later appends: the half record and
    # the next one run together into one undecodable line, mid-file once another line follows
    last = good.splitlines(keepends=True)[-1]
    path.write_bytes(good + b'{"op_code":4,"worker_id":"x","trial_id":1,"par' + last + last)
    with pytest.raises(json.JSONDecodeError):  # Optuna's reader, as every later `sweep run` met it
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.load_study(storage=JournalStorage(JournalFileBackend(str(path))), study_name="s")
    with pytest.warns(UserWarning, match=r"study journal .*journal.log: 1 damaged record\(s\) \(a write cut short\) "
                                         r"set aside with the whole file in journal.log.damaged-"):
        storage = StudyStorage(None, tmp_path)
    again = optuna.load_study(storage=storage.optuna, study_name="s")
    assert [t.value for t in again.trials][0] == 1.0
    aside = next(tmp_path.glob("journal.log.damaged-*"))
    assert b'"par' in aside.read_bytes() and b'"par' not in path.read_bytes()
    again.tell(again.ask(), 0.25)
    assert optuna.load_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s").trials[-1].value == 0.25


# -- metrics: one that fails never loses the others ---------------------------------------------------

class _Metric:
    def __init__(self, config):
        self.config = config


class Boom(_Metric):
    def __call__(self, ctx):
        raise ValueError("the plugin's own bug")


class Fine(_Metric):
    def __call__(self, ctx):
        from medgan_zoo import MetricResult

        return MetricResult(values={"score": 0.25}, headline="score")


class NanHeadline(_Metric):
    def __call__(self, ctx):
        from medgan_zoo import MetricResult

        return MetricResult(values={"score": float("nan")}, headline="score")


class NanAside(_Metric):
    def __call__(self, ctx):
        from medgan_zoo import MetricResult

        return MetricResult(values={"score": 1.0, "per_class": {"rv": float("inf")}}, headline="score")


@pytest.fixture
def faulty_metrics():
    import types

    from medgan_zoo import MetricSpec, PluginConfig, hookimpl
    from medgan_zoo.registry import PluginSource, Registry, use_registry

    @hookimpl
    def register_metrics(register):
        for name, factory in (("boom", Boom), ("fine", Fine), ("nan-headline", NanHeadline), ("nan-aside", NanAside)):
            register(MetricSpec(name=name, summary="A test metric.", better="lower", config=PluginConfig,
                                factory=factory))

    module = types.ModuleType("faulty_metrics")
    module.register_metrics = register_metrics
    with use_registry(Registry.load([PluginSource.of(module, "faulty-metrics", "0.3")], builtins=True)):
        yield


def _strict_json(path):
    def refuse(token):
        raise AssertionError(f"{path} holds {token}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_a_failing_metric_is_recorded_and_the_others_kept(faulty_metrics, tmp_path):
    import medgan_zoo as zoo
    from medgan_zoo.evaluation.harness import MetricsFailed

    real = zoo.load_dataset("acdc-phantom", split="test", resolution=32, train_subjects=2, test_subjects=1)
    samples = zoo.Samples(real.images[:8], real.masks[:8], 0, dict(real.label_map))
    names = ["boom", "fine", "nan-headline", "nan-aside"]
    with pytest.raises(MetricsFailed, match=r"2 metric\(s\) failed, the others were kept: boom: ValueError: the "
                                            r"plugin's own bug; nan-headline: MetricResultError: metric 'nan-headline' "
                                            r"\(faulty-metrics 0.3\) returned nan for its headline 'score'") as caught:
        zoo.evaluate(samples, "acdc-phantom", names, scale="quick", out=tmp_path / "eval", progress=False,
                     dataset_config={"train_subjects": 2, "test_subjects": 1})
    written = _strict_json(tmp_path / "eval" / "evaluation.json")
    assert written["fine"]["score"] == 0.25 and caught.value.results["fine"]["score"] == 0.25
    assert written["boom"]["failed"] is True and written["boom"]["plugin"] == "metric 'boom' (faulty-metrics 0.3)"
    assert written["nan-aside"]["per_class"]["rv"] is None and written["nan-aside"]["non_finite"] == ["per_class.rv"]
    assert "ValueError: the plugin's own bug" in (tmp_path / "eval" / "evaluation.log").read_text()  # traceback
    assert "| boom | FAILED (ValueError: the plugin's own bug) |" in (tmp_path / "eval" / "evaluation.md").read_text()
    kept = zoo.evaluate(samples, "acdc-phantom", ["boom", "fine"], scale="quick", progress=False, strict=False,
                        dataset_config={"train_subjects": 2, "test_subjects": 1})
    assert kept["boom"]["failed"] and kept["fine"]["score"] == 0.25


# -- what plugin code hands over is checked where it enters -------------------------------------------

def _model(generate=None):
    import torch

    import medgan_zoo as zoo
    from medgan_zoo.model import GanModel
    from medgan_zoo.model_info import ModelInfo

    gan = zoo.create_gan("dcgan", resolution=32, num_classes=2, g_filters=8, d_filters=8, latent_dim=8,
                         with_discriminator=False)
    if generate is not None:
        gan.generate = generate
    info = ModelInfo(gan="dcgan", plugin_distribution="their-gan", plugin_version="0.2", gan_config={},
                     dataset="acdc-phantom", label_map={0: "background", 1: "heart"}, resolution=32,
                     image_channels=1)
    return GanModel(gan, info, torch.device("cpu"))


@pytest.mark.parametrize("make, message", [
    (lambda z: z.new_zeros(len(z), 2, 32, 32), r"generate returned shape \[32, 2, 32, 32\], expected "
                                                r"\[32, 3, 32, 32\] \(image channels then one-hot mask channels"),
    (lambda z: z.new_zeros(len(z), 3, 16, 16),
     r"generate returned shape \[32, 3, 16, 16\], expected \[32, 3, 32, 32\]"),
    (lambda z: z.new_full((len(z), 3, 32, 32), float("nan")), "generate returned NaN or infinite values .*--allow-nan"),
    (lambda z: (z.new_zeros(len(z), 3, 32, 32)).long(), "generate returned torch.int64, expected a floating tensor"),
    (lambda z: [1, 2], "generate returned list, expected a tensor"),
    (lambda z: 1 / 0, "generate raised ZeroDivisionError: division by zero"),
])
def test_a_gans_output_is_checked_naming_the_plugin(make, message):
    from medgan_zoo.handover import PluginOutputError

    model = _model(lambda z, generator=None, **options: make(z))
    with pytest.raises(PluginOutputError, match=r"GAN 'dcgan' \(their-gan 0.2\): " + message):
        model.sample(2, seed=0)


def test_nan_samples_are_written_only_when_allowed_and_loud_values_warn(tmp_path):
    model = _model(lambda z, generator=None, **options: z.new_full((len(z), 3, 32, 32), float("nan")))
    model.allow_nan = True
    assert model.sample(2, seed=0).images.isnan().all()  # forensics: the NaN is what was asked for
    loud = _model(lambda z, generator=None, **options: z.new_full((len(z), 3, 32, 32), 50.0))
    with pytest.warns(UserWarning, match=r"values up to 50 where images are in \[-1, 1\] \(no tanh\?\)"):
        assert float(loud.sample(2, seed=0).images.max()) == 1.0


def test_a_loss_that_returns_a_vector_or_raises_is_named(monkeypatch):
    import torch

    import medgan_zoo as zoo
    from medgan_zoo.handover import PluginOutputError
    from medgan_zoo.losses.adversarial import HingeLoss

    loss = zoo.create_loss("hinge")
    real, fake = torch.randn(4, 1), torch.randn(4, 1)
    assert loss.discriminator_loss(real, fake).ndim == 0 and isinstance(loss, HingeLoss)  # its type kept
    monkeypatch.setattr(HingeLoss, "discriminator_loss", lambda self, r, f: (r - f).flatten())
    with pytest.raises(PluginOutputError, match=r"loss 'hinge' \(medgan-zoo [^)]+\): discriminator_loss returned a "
                                                r"tensor of shape \[4\], expected a scalar \(reduce it"):
        zoo.create_loss("hinge").discriminator_loss(real, fake)
    monkeypatch.setattr(HingeLoss, "generator_loss", lambda self, f, real=None: float("x"))
    with pytest.raises(PluginOutputError, match="generator_loss raised ValueError: could not convert"):
        zoo.create_loss("hinge").generator_loss(fake)
    penalty = zoo.create_loss("gradient-penalty")
    assert penalty(lambda x: x.sum(dim=(1, 2, 3)), torch.randn(2, 1, 4, 4, requires_grad=True),
                   torch.randn(2, 1, 4, 4)).ndim == 0


def _dataset_plugin(build):
    import types

    from medgan_zoo import DatasetSpec, hookimpl
    from medgan_zoo.data.configs import PhantomConfig
    from medgan_zoo.registry import PluginSource, Registry

    def load(config):
        from medgan_zoo.data.build import make_dataset

        return make_dataset("wide", config, {0: "background", 1: "x"}, 1, [], build)

    @hookimpl
    def register_datasets(register):
        register(DatasetSpec(name="wide", modality="MR", organ="any", channels=1, label_map={0: "background", 1: "x"},
                             phantom=True, config=PhantomConfig, factory=load, summary="A test data set."))

    module = types.ModuleType("wide_data")
    module.register_datasets = register_datasets
    return Registry.load([PluginSource.of(module, "wide-data", "0.1")], builtins=True)


def test_a_dataset_plugins_arrays_outside_the_contract_and_its_own_errors_name_it():
    import numpy as np

    import medgan_zoo as zoo
    from medgan_zoo.data.slices import DatasetError, SliceArrays
    from medgan_zoo.handover import PluginOutputError
    from medgan_zoo.registry import use_registry

    images = np.full((2, 1, 16, 16), 255.0, np.float32) * np.array([1, -1], np.float32).reshape(2, 1, 1, 1)
    wide = SliceArrays(images, np.zeros((2, 16, 16), np.uint8), ["a", "b"])
    with use_registry(_dataset_plugin(lambda: wide)):
        with pytest.raises(DatasetError, match=r"dataset 'wide' \(wide-data 0.1\): wide \(train\): images span "
                                               r"\[-255, 255\], expected \[-1, 1\]"):
            zoo.load_dataset("wide", resolution=16, cache=False)

    def broken():
        raise ValueError("my reader's own bug")

    with use_registry(_dataset_plugin(broken)):
        with pytest.raises(PluginOutputError, match=r"dataset 'wide' \(wide-data 0.1\): loading raised ValueError: "
                                                    r"my reader's own bug"):
            zoo.load_dataset("wide", resolution=16, cache=False)


def test_weights_of_another_dtype_or_with_nan_are_refused_naming_the_tensor(tmp_path):
    from safetensors.torch import load_file, save_file

    import medgan_zoo as zoo
    from medgan_zoo.handover import WeightsError

    zoo.train("dcgan", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=1, progress=False,
              gan_config={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4},
              dataset_config={"train_subjects": 2, "test_subjects": 1})
    weights = tmp_path / "run" / "model.safetensors"
    tensors = load_file(str(weights))
    name = next(k for k, v in tensors.items() if v.is_floating_point() and v.ndim > 1)
    save_file({**tensors, name: tensors[name].double()}, str(weights))
    with pytest.raises(WeightsError, match=rf"tensor {name} is torch.float64 where the network holds torch.float32"):
        zoo.load(tmp_path / "run")
    broken = tensors[name].clone()
    broken.view(-1)[0] = float("nan")
    save_file({**tensors, name: broken}, str(weights))
    with pytest.raises(WeightsError, match=rf"tensor {name} holds NaN or infinite values.*--allow-nan"):
        zoo.load(tmp_path / "run")
    assert zoo.load(tmp_path / "run", allow_nan=True).allow_nan


def test_a_full_disk_is_one_line_naming_the_path_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import medgan_zoo as zoo
    from medgan_zoo import sampling
    from medgan_zoo.cli import cli

    zoo.train("dcgan", "acdc-phantom", out=tmp_path / "run", resolution=32, steps=1, progress=False,
              gan_config={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4},
              dataset_config={"train_subjects": 2, "test_subjects": 1})

    def full(out, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "image_000000.png"))

    monkeypatch.setattr(sampling, "write_samples", full)
    monkeypatch.setattr("medgan_zoo.model.write_samples", full)
    args = ["sample", str(tmp_path / "run"), "-n", "2", "--out", str(tmp_path / "s")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert f"cannot write {tmp_path / 's' / 'image_000000.png'}: the disk is full" in result.output
    debug = CliRunner().invoke(cli, ["--debug", *args])
    assert isinstance(debug.exception, OSError)  # the traceback, not the line


def test_plugin_text_is_printed_as_text_and_a_broken_card_hides_no_other(tmp_path, monkeypatch):
    import types

    from click.testing import CliRunner

    import medgan_zoo as zoo
    from medgan_zoo.cli import cli
    from medgan_zoo.registry import PluginSource, Registry, use_registry

    def register_gans(register):
        raise ValueError("name must match '^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$'")

    from medgan_zoo import hookimpl

    module = types.ModuleType("regex_plugin")
    module.register_gans = hookimpl(register_gans)
    with use_registry(Registry.load([PluginSource.of(module, "regex-plugin", "0.1")], builtins=True)):
        listing = CliRunner().invoke(cli, ["plugins"])
    assert "'^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$'" in listing.output.replace("\n", "")

    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "mine-acdc.yaml").write_text("name: [unclosed\n")
    monkeypatch.setenv("MEDGAN_ZOO_CARDS", str(cards))
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0 and "dcgan-acdc" in result.output
    assert "mine-acdc" in result.output and "broken invalid model card" in result.output.replace("\n", " ")
    with pytest.raises(zoo.errors.MedganZooError, match="invalid model card"):
        zoo.load("mine-acdc")


def test_sweep_status_calls_a_worker_dead_when_its_process_heartbeat_or_trial_is_gone(tmp_path):
    import socket
    import subprocess
    import sys
    import time

    from medgan_zoo.search.status import worker_lines

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    workers = tmp_path / "workers"
    workers.mkdir()
    now = time.time()
    rows = {"1": {"pid": int(gone.stdout), "updated": now, "state": "training", "trial": 3},
            "2": {"pid": 1, "host": "elsewhere", "updated": now - 10_000 // 10, "state": "training"},
            "3": {"pid": 1, "host": "elsewhere", "updated": now, "state": "training", "trial": 4}}
    for worker, row in rows.items():
        (workers / f"{worker}.json").write_text(json.dumps({"worker": worker, "host": socket.gethostname(), **row}))
    lines = worker_lines(tmp_path, now=now, running=False)
    assert "worker 1" in lines[0] and "dead (its process is gone)" in lines[0]
    assert "dead (no heartbeat for 1000 s)" in lines[1]
    assert "dead (the study runs no trial)" in lines[2]
    assert "dead" not in worker_lines(tmp_path, now=now, running=True)[2]


def test_a_vgg_weights_file_that_is_a_pickle_is_refused_in_one_line(tmp_path):
    import pickle

    pytest.importorskip("torchvision")
    from medgan_zoo.errors import MedganZooError
    from medgan_zoo.gans.vgg import VggFeatures

    class Payload:
        def __reduce__(self):
            return (print, ("this ran",))

    planted = tmp_path / "vgg19.pth"
    planted.write_bytes(pickle.dumps({"features.0.weight": Payload()}))
    with pytest.raises(MedganZooError, match=r"vgg19.pth is not a file of VGG-19 weight tensors \(refused to load: "
                                             r"UnpicklingError") as caught:
        VggFeatures(planted)
    assert "\n" not in str(caught.value)


def test_a_dead_writers_half_record_never_swallows_the_next_append(tmp_path):
    from medgan_zoo.search.storage import StudyStorage

    path = tmp_path / "journal.log"
    study = optuna.create_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s")
    study.tell(study.ask(), 1.0)
    with path.open("ab") as handle:  # a worker killed mid-append: half a record, no newline
        handle.write(b'{"op_code":4,"worker_id":"dead","trial_id":0,"par')
    study.tell(study.ask(), 0.5)  # the next append (another worker that opened the journal before)
    assert path.read_bytes().endswith(b"\n") and b'"par' not in path.read_bytes()  # the half line was cut first
    assert [t.value for t in optuna.load_study(storage=StudyStorage(None, tmp_path).optuna,
                                               study_name="s").trials] == [1.0, 0.5]


def test_a_damaged_journal_on_a_read_only_copy_is_still_read(tmp_path, monkeypatch):
    from medgan_zoo.search import journal
    from medgan_zoo.search.storage import StudyStorage

    path = tmp_path / "journal.log"
    study = optuna.create_study(storage=StudyStorage(None, tmp_path).optuna, study_name="s")
    study.tell(study.ask(), 1.0)
    with path.open("ab") as handle:
        handle.write(b'{"op_code":4,"par')

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(journal, "repair", read_only)
    with pytest.warns(UserWarning, match="cannot be repaired here \\(Read-only file system\\); reading the records"):
        storage = StudyStorage(None, tmp_path)
    assert [t.value for t in optuna.load_study(storage=storage.optuna, study_name="s").trials] == [1.0]


def test_checked_losses_still_copy_pickle_and_take_their_own_keywords():
    import copy
    import io
    import pickle

    import torch

    import medgan_zoo as zoo

    penalty = zoo.create_loss("gradient-penalty")
    real = torch.randn(2, 1, 4, 4, requires_grad=True)
    fake, alpha = torch.randn(2, 1, 4, 4), torch.rand(2, 1, 1, 1)
    assert penalty(lambda x: x.sum(dim=(1, 2, 3)), real, fake, alpha=alpha).ndim == 0  # its own keyword passes
    copy.deepcopy(penalty)
    pickle.loads(pickle.dumps(penalty))
    gan = zoo.create_gan("dcgan", resolution=32, loss="hinge", g_filters=8, d_filters=8, latent_dim=8)
    torch.save(gan, io.BytesIO())
    twin = copy.deepcopy(gan)
    assert twin.loss.discriminator_loss.owner is twin.loss  # the copy's term calls the copy


def test_what_train_step_to_pairs_a_data_set_and_a_metric_return_is_checked(tmp_path, faulty_metrics):
    import numpy as np
    import torch

    import medgan_zoo as zoo
    from medgan_zoo.data.slices import DatasetError, SliceArrays
    from medgan_zoo.handover import PluginOutputError, check_logs
    from medgan_zoo.metric_result import MetricResultError, checked_record
    from medgan_zoo.registry import use_registry

    with pytest.raises(PluginOutputError, match="train_step returned NoneType, expected a dict"):
        check_logs(None, "GAN 'x' (d 1)")
    with pytest.raises(PluginOutputError, match=r"train_step returned 'loss_d': shape \[4\], expected a scalar"):
        check_logs({"loss_d": torch.ones(4)}, "GAN 'x' (d 1)")
    model = _model()
    model.gan.to_pairs = lambda output: (output[:, :1] + 5, output[:, 1:].argmax(1).to(torch.uint8))
    with pytest.raises(PluginOutputError, match=r"to_pairs returned images in \[.*\], expected \[-1, 1\]"):
        model.sample(2, seed=0)
    model.gan.to_pairs = lambda output: (output[:, :1].clamp(-1, 1), output[:, 1:].argmax(1).to(torch.uint8) + 7)
    with pytest.raises(PluginOutputError, match=r"to_pairs returned mask values 7..8, outside the label map 0..1"):
        model.sample(2, seed=0)
    small = SliceArrays(np.zeros((2, 1, 16, 16), np.float32), np.zeros((2, 16, 16), np.uint8), ["a", "b"])
    with use_registry(_dataset_plugin(lambda: small)):
        with pytest.raises(DatasetError, match=r"dataset 'wide' \(wide-data 0.1\): returned 16x16 slices for "
                                               r"resolution 32"):
            zoo.load_dataset("wide", resolution=32, cache=False)
    spec = zoo.get_registry().metrics["fine"]
    for nan in (np.float32("nan"), torch.tensor(float("nan"))):
        with pytest.raises(MetricResultError, match="returned nan for its headline 'score'"):
            checked_record(spec, zoo.MetricResult(values={"score": nan}, headline="score"))


def test_a_lab_card_that_clashes_with_a_shipped_one_is_listed_broken_and_hides_nothing(tmp_path, monkeypatch):
    import shutil

    from click.testing import CliRunner

    import medgan_zoo as zoo
    from medgan_zoo.catalogue import cards_folder, get_card
    from medgan_zoo.cli import cli

    cards = tmp_path / "cards"
    cards.mkdir()
    shutil.copy(cards_folder() / "dcgan-acdc.yaml", cards / "dcgan-acdc.yaml")
    monkeypatch.setenv("MEDGAN_ZOO_CARDS", str(cards))
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0 and "clashes with a shipped card: rename it" in result.output
    assert get_card("dcgan-acdc").name == "dcgan-acdc" and len(zoo.list_models()) == 24


def test_an_allow_nan_evaluation_says_its_numbers_are_not_scores(tmp_path):
    import torch

    import medgan_zoo as zoo

    real = zoo.load_dataset("acdc-phantom", split="test", resolution=32, train_subjects=2, test_subjects=1)
    images = real.images[:8].clone()
    images[0] = float("nan")
    samples = zoo.Samples(images, real.masks[:8], 0, dict(real.label_map))
    results = zoo.evaluate(samples, "acdc-phantom", ["memorisation"], scale="quick", out=tmp_path, progress=False,
                           allow_nan=True, strict=False, dataset_config={"train_subjects": 2, "test_subjects": 1})
    assert results["meta"]["allow_nan"] and results["meta"]["non_finite_samples"] == 1
    assert "1 of 8 samples hold NaN" in (tmp_path / "evaluation.md").read_text()
    assert torch.isnan(images[0]).all()
