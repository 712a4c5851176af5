"""Progress without a terminal: plain lines at an interval (an injected clock, not wall time), an
estimate from the first steps, no escape codes; the same lines in the run's log file."""

from __future__ import annotations

import io

import medgan_zoo as zoo
from medgan_zoo.progress import Progress


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_an_interval_with_an_estimate(tmp_path):
    clock, stream = _Clock(), io.StringIO()
    progress = Progress(100, "training", stream=stream, log=tmp_path / "train.log", interval=10, clock=clock)
    for step in range(1, 101):
        clock.now += 0.5  # 0.5 s a step
        progress.update(step, info="loss_d=0.7" if step % 20 == 0 else None)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "\x1b" not in stream.getvalue()  # no escape codes in a file
    assert len(lines) == 6  # the first step, then one line per 10 s (20 steps), and the last
    assert lines[0] == "training 1/100 (1%) 0:00:00 elapsed, ~0:00:49 left"
    assert lines[1].startswith("training 21/100 (21%) 0:00:10 elapsed, ~0:00:39 left  loss_d=0.7")
    assert lines[-1].startswith("training 100/100 (100%) 0:00:50 elapsed, ~0:00:00 left")
    assert all(len(line.split("  ")[0]) <= 80 for line in lines)
    assert (tmp_path / "train.log").read_text().splitlines() == lines


def test_an_unfinished_task_ends_with_where_it_stopped():
    clock, stream = _Clock(), io.StringIO()
    progress = Progress(10, "evaluating", stream=stream, interval=60, clock=clock)
    progress.note("dice: started")
    clock.now = 5
    progress.update(3)
    progress.close()
    assert stream.getvalue().splitlines() == ["dice: started", "evaluating 3/10 (30%) 0:00:05 elapsed, ~0:00:11 left"]


def test_training_writes_its_progress_to_a_log_file(tmp_path):
    out = tmp_path / "run"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=3, log_every=3,
              gan_config={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 2},
              dataset_config={"train_subjects": 1, "test_subjects": 1})
    log = (out / "train.log").read_text()
    assert "training 1/3" in log and "training 3/3 (100%)" in log and "loss_d=" in log and "\x1b" not in log


def test_an_interrupted_evaluation_keeps_the_finished_metrics(tmp_path, monkeypatch):
    import json

    import pytest

    from medgan_zoo.evaluation.harness import evaluate
    from medgan_zoo.evaluation.neighbours import MemorisationMetric

    def interrupted(self, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(MemorisationMetric, "__call__", interrupted)
    real = zoo.load_dataset("acdc-phantom", split="test", resolution=32, train_subjects=1, test_subjects=1)
    samples = zoo.Samples(real.images[:12], real.masks[:12], 0, dict(real.label_map))
    with pytest.raises(KeyboardInterrupt):
        evaluate(samples, "acdc-phantom", ["prdc", "memorisation"], scale="quick", out=tmp_path,
                 dataset_config={"train_subjects": 1, "test_subjects": 1},
                 metric_config={"prdc": {"features": "pixels"}})
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert "precision" in report["prdc"] and report["meta"]["interrupted_during"] == "memorisation"
    assert "prdc: precision" in (tmp_path / "evaluation.log").read_text()


def test_large_sampling_and_phantom_building_show_progress(capsys):
    import torch

    from medgan_zoo.model import LARGE_SAMPLE, GanModel, ModelInfo

    gan = zoo.create_gan("dcgan", resolution=32, g_filters=8, latent_dim=8, with_discriminator=False)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version="0",
                     gan_config=gan.config.model_dump(mode="json"), dataset="acdc-phantom",
                     label_map={0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"},
                     resolution=32, image_channels=1)
    GanModel(gan, info, torch.device("cpu")).sample(LARGE_SAMPLE, seed=0)
    assert f"sampling {LARGE_SAMPLE}/{LARGE_SAMPLE} (100%)" in capsys.readouterr().err
    zoo.load_dataset("acdc-phantom", resolution=32, train_subjects=30, cache=False)
    assert "building acdc-phantom (train)" in capsys.readouterr().err


def _tiny_model():
    import torch

    from medgan_zoo.model import GanModel, ModelInfo

    gan = zoo.create_gan("dcgan", resolution=32, g_filters=8, latent_dim=8, with_discriminator=False)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version="0",
                     gan_config=gan.config.model_dump(mode="json"), dataset="acdc-phantom",
                     label_map={0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"},
                     resolution=32, image_channels=1)
    return GanModel(gan, info, torch.device("cpu"))


def test_a_paper_scale_evaluation_on_the_cpu_says_how_long_first(tmp_path, capsys, monkeypatch):
    from medgan_zoo.evaluation import estimate

    monkeypatch.setattr(estimate, "unet_step_seconds", lambda config, probe: 0.5)
    data = {"train_subjects": 2, "test_subjects": 1}
    zoo.evaluate(_tiny_model(), "acdc-phantom", ["dice", "memorisation"], n=8, scale="paper", device="cpu",
                 dataset_config=data, out=tmp_path,
                 metric_config={"dice": {"steps": 2, "seeds": 2, "sources": ["synthetic", "original"],
                                         "encoder_depth": 3, "decoder_channels": [16, 8, 4]}})
    err = capsys.readouterr().err
    # 0.5 s x 2 steps x 2 seeds x 2 sources = 4 s of U-Net training, said before any work
    first = err.splitlines()[0]
    assert first.startswith("paper scale on the CPU: at least about ") and "dice: 4 s" in first
    assert "sampling 8: " in first and "memorisation: not estimated" in first and "--scale quick" in first
    assert (tmp_path / "evaluation.log").read_text().splitlines()[0] == first
    zoo.evaluate(_tiny_model(), "acdc-phantom", ["memorisation"], n=8, scale="quick", device="cpu",
                 dataset_config=data)
    assert "paper scale" not in capsys.readouterr().err


def test_the_estimate_times_real_unet_steps_and_the_study_warns_too():
    import torch

    from medgan_zoo.evaluation.estimate import Probe, unet_step_seconds
    from medgan_zoo.evaluation.study import _paper_scale_warning

    config = zoo.get_registry().metrics["dice"].make_config({"encoder_depth": 3, "decoder_channels": [16, 8, 4],
                                                             "batch_size": 2})
    seconds = unet_step_seconds(config, Probe(8, 32, 1, 4, torch.device("cpu")))
    assert 0 < seconds < 30
    text = _paper_scale_warning(["dcgan", "lsgan"], ["acdc-phantom"], ["memorisation"], {}, "20000 steps", 32)
    assert text.startswith("paper scale on the CPU: 2 cell(s), each training 20000 steps at 32 px")
    assert "memorisation: not estimated" in text and "--scale quick" in text
