"""A new user's input is taken as typed, and errors say what to do (the first-hour issue)."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.errors import ConfigError
from medgan_zoo.model import ModelLoadError

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 2}


def test_comma_lists_for_list_and_tuple_fields():
    gan = zoo.create_gan("dcgan", resolution=32, diffaugment="color, translation", betas="0.5,0.99")
    assert gan.config.diffaugment == ("color", "translation") and gan.config.betas == (0.5, 0.99)
    assert zoo.create_gan("dcgan", resolution=32, diffaugment="").config.diffaugment == ()
    dice = zoo.get_registry().metrics["dice"].make_config({"decoder_channels": "32,16,8"})
    assert dice.decoder_channels == (32, 16, 8)


def test_home_and_environment_variables_in_path_fields(monkeypatch, tmp_path):
    from pathlib import Path

    monkeypatch.setenv("WEIGHTS_DIR", str(tmp_path))
    fid = zoo.get_registry().metrics["fid"].make_config({"weights": "$WEIGHTS_DIR/inception.pth"})
    assert fid.weights == tmp_path / "inception.pth"
    gan = zoo.create_gan("dcgan", resolution=32, vgg_weights="~/vgg19.pth")
    assert gan.config.vgg_weights == Path.home() / "vgg19.pth"


def test_every_unknown_key_gets_a_hint_or_a_pointer():
    with pytest.raises(ConfigError, match="unknown key 'lrr' \\(did you mean 'lr'\\?\\)"):
        zoo.create_gan("dcgan", lrr=1e-4)
    with pytest.raises(ConfigError, match="unknown key 'learning_rate' \\(`medgan-zoo plugins show gan dcgan` "
                                          "lists the fields\\)"):
        zoo.create_gan("dcgan", learning_rate=1e-4)


def test_datasets_show_takes_the_resolution_from_set():
    result = CliRunner().invoke(cli, ["datasets", "show", "acdc-phantom", "--split", "test", "--set", "resolution=32",
                                      "--set", "train_subjects=1", "--set", "test_subjects=1"])
    assert result.exit_code == 0, result.output
    assert "slices of 32x32" in result.output


def test_train_help_lists_what_is_installed():
    result = CliRunner().invoke(cli, ["train", "--help"])
    assert result.exit_code == 0
    assert "Installed:" in result.output and "wgan-gp" in result.output and "acdc-phantom" in result.output


def test_one_device_default(monkeypatch, tmp_path):
    from medgan_zoo import device as device_module

    out = tmp_path / "run"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=1, gan_config=TINY, progress=False,
              dataset_config={"train_subjects": 1, "test_subjects": 1})
    asked = []
    monkeypatch.setattr(device_module, "default_device", lambda: asked.append(True) or torch.device("cpu"))
    assert zoo.load(out).device == torch.device("cpu") and asked  # the same default as train and evaluate
    assert "CUDA when available" in " ".join(CliRunner().invoke(cli, ["sample", "--help"]).output.split())


def test_an_unfinished_run_says_to_resume(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.safetensors").write_bytes(b"\0")
    with pytest.raises(ModelLoadError, match="has not finished.*--resume"):
        zoo.load(run)


def test_a_truncated_model_file_says_what_to_do(tmp_path):
    out = tmp_path / "run"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=1, gan_config=TINY, progress=False,
              dataset_config={"train_subjects": 1, "test_subjects": 1})
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match="model.safetensors is truncated or corrupt.*re-export.*download it again"):
        zoo.load(out)


def test_catalogue_message_knows_the_plugin_is_installed():
    with pytest.raises(ModelLoadError) as info:
        zoo.load("spade-idrid")
    message = str(info.value)
    assert "no published checkpoint yet" in message and "medgan-zoo train spade" in message
    assert "not installed" not in message and "not released" not in message


def test_a_models_pattern_with_no_match_says_so():
    result = CliRunner().invoke(cli, ["models", "nothing*"])
    assert result.exit_code == 1 and "no catalogue entry matches 'nothing*'" in result.output


def test_reports_say_what_each_number_means_and_no_spread_over_one_seed(tmp_path):
    from medgan_zoo.evaluation.harness import write_report
    from medgan_zoo.evaluation.study import _write_tables
    from medgan_zoo.metric import Cell, MetricResult

    dice = MetricResult(values={"dice": 0.5, "dice_std": None, "seeds": 1}, headline="dice", std="dice_std",
                        reference={"dice": 0.6},
                        rows={"original": Cell(value=0.6, std=None, training_pairs=100)})
    results = {"dice": dice.record("higher"),
               "meta": {"dataset": "acdc-phantom", "samples": 10, "seed": 0, "resolution": 32, "scale": "quick",
                        "model": "dcgan"}}
    write_report(tmp_path, results)
    report = (tmp_path / "evaluation.md").read_text()
    assert "| dice | dice 0.5 | dice 0.6 | Dice on the real test split of a U-Net trained on generated pairs" in report
    assert "The reference is what real data gets" in report
    assert "±" not in report and "| row | dice (one seed) | training_pairs |" in report
    assert "| dcgan | 0.500 | – |" in report and "| original | 0.600 | 100 |" in report
    row = {"dataset": "acdc-phantom", "source": "dcgan", "masks": "generated with the image", "dice": 0.5,
           "dice_std": None, "paper_dice": 0.3}
    _write_tables(tmp_path, [row], {"scale": "quick", "steps": 1, "resolution": 32, "samples": 10, "metrics": ["dice"],
                                    "columns": {"dice": "U-Net Dice"}, "better": {"dice": "higher"},
                                    "paper_source": "the paper"})
    table = (tmp_path / "table2.md").read_text()
    assert "| U-Net Dice (↑) | paper U-Net Dice |" in table and "| 0.5 | 0.3 |" in table and "±" not in table


def test_grids_carry_a_title_and_a_legend_of_the_label_map(tmp_path):
    import numpy as np
    from PIL import Image

    from medgan_zoo.data.preview import PALETTE, overlay_grid, save_grid

    images, masks = torch.zeros(2, 1, 16, 16), torch.zeros(2, 16, 16, dtype=torch.long)
    grid = overlay_grid(images, masks, columns=2)
    labels = {0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"}
    save_grid(grid, tmp_path / "grid.png", "generated samples, each beside its mask", labels)
    saved = np.asarray(Image.open(tmp_path / "grid.png").convert("RGB"))
    assert saved.shape[0] > grid.shape[0] and saved.shape[1] >= grid.shape[1]  # a band above, never cut
    band = saved[: saved.shape[0] - grid.shape[0]].reshape(-1, 3)
    for label in (1, 2, 3):  # a swatch per class, none for the background
        assert (band == PALETTE[label - 1].astype(np.uint8)).all(axis=1).any()


def test_a_resumed_run_reports_totals_with_totals(tmp_path):
    import csv
    import json

    out = tmp_path / "run"
    settings = {"dataset_config": {"train_subjects": 2, "test_subjects": 1}, "progress": False, "log_every": 1,
                "sample_every": 1000, "checkpoint_every": 3, "resolution": 32}
    first = zoo.train("dcgan", "acdc-phantom", out=out, steps=3, gan_config=TINY, **settings)
    resumed = zoo.train("dcgan", "acdc-phantom", out=out, steps=6, resume=True, gan_config=TINY, **settings)
    assert resumed.resumed_from == [3] and resumed.seconds > first.seconds
    assert resumed.images_per_second == pytest.approx(6 * TINY["batch_size"] / resumed.seconds)
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["resumed_from"] == [3] and training["seconds"] == round(resumed.seconds, 1)
    seconds = [float(r["seconds"]) for r in csv.DictReader((out / "metrics.csv").open())]
    assert len(seconds) == 6 and seconds == sorted(seconds) and seconds[3] > seconds[2]  # no restart at zero


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for a GPU that a machine without one lacks")
def test_a_gpu_this_machine_lacks_or_an_unknown_device_is_one_line(tmp_path):
    for device, message in (("cuda", "device 'cuda': this machine has no CUDA GPU that torch can use"),
                            ("gpu", "unknown device 'gpu': use cpu, cuda, cuda:N")):
        result = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--device", device,
                                          "--steps", "1", "--out", str(tmp_path / device)])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
        assert not (tmp_path / device).exists()  # refused before anything was written


def test_a_busy_port_is_one_line_before_any_link(tmp_path, free_port):
    import socket

    pytest.importorskip("fastapi")
    from medgan_zoo.turing.store import Store

    Store(tmp_path).create({"practice": 0}, [("a", "real", "scored", "x")], [("t" * 24, "rater-1", ["a"])])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port))
        taken.listen(1)
        result = CliRunner().invoke(cli, ["turing-test", "serve", str(tmp_path), "--port", str(free_port)])
    assert result.exit_code == 1 and f"cannot serve on 127.0.0.1:{free_port}" in result.output
    assert "rater links" not in result.output and "Traceback" not in result.output


def test_long_stages_inside_metrics_report_progress_into_the_evaluation_log(tmp_path):
    real = zoo.load_dataset("acdc-phantom", split="test", resolution=32, train_subjects=2, test_subjects=1)
    samples = zoo.Samples(real.images[:8], real.masks[:8], 0, dict(real.label_map))
    unet = {"steps": 100, "encoder_depth": 3, "decoder_channels": [8, 8, 8], "batch_size": 4}
    zoo.evaluate(samples, "acdc-phantom", ["unet-fd", "dice"], scale="quick", out=tmp_path / "eval",
                 dataset_config={"train_subjects": 2, "test_subjects": 1},
                 metric_config={"unet-fd": unet, "dice": {**unet, "sources": ["synthetic"], "seeds": 1}})
    log = (tmp_path / "eval" / "evaluation.log").read_text()
    assert "reference U-Net on the real pairs (U-Net features; trained once, cached) 100/100" in log
    assert "dice: U-Net on the synthetic pairs (seed 0) 100/100" in log
    quiet = zoo.evaluate(samples, "acdc-phantom", ["dice"], scale="quick", out=tmp_path / "quiet", progress=False,
                         dataset_config={"train_subjects": 2, "test_subjects": 1},
                         metric_config={"dice": {**unet, "sources": ["synthetic"], "seeds": 1}})
    assert quiet["dice"]["dice"] >= 0 and not (tmp_path / "quiet" / "evaluation.log").exists()


def test_the_inception_note_says_why_there_was_no_download_and_what_fetches_it(tmp_path, monkeypatch):
    from medgan_zoo.evaluation.inception import OFFLINE_ENV, WEIGHTS_ENV, WeightsNotFound, find_inception_weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    with pytest.raises(WeightsNotFound, match=r"none were found \(this step does not download\)\. `medgan-zoo "
                                              r"weights fetch inception`") as caught:
        find_inception_weights(download=False)
    assert OFFLINE_ENV not in str(caught.value).split("none were found")[1].split(")")[0]  # not blamed when unset
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(WeightsNotFound, match=rf"none were found \({OFFLINE_ENV} is set: no download\)"):
        find_inception_weights()
