"""``medgan-zoo evaluate`` and ``medgan-zoo study`` at the quick scale on a phantom."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from medgan_zoo.cli import cli

DATA = ["--set", "dataset.train_subjects=2", "--set", "dataset.test_subjects=1"]
FAST = ["--set", "dice.steps=10", "--set", "dice.encoder_depth=3", "--set", "dice.decoder_channels=[8,8,8]",
        "--set", "unet-fd.steps=10", "--set", "unet-fd.encoder_depth=3", "--set", "unet-fd.decoder_channels=[8,8,8]"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "dcgan"
    result = CliRunner().invoke(cli, ["train", "dcgan", "--dataset", "acdc-phantom", "--resolution", "32",
                                      "--steps", "2", "--set", "g_filters=8", "--set", "d_filters=8",
                                      "--set", "dataset.train_subjects=2", "--set", "dataset.test_subjects=1",
                                      "--set", "train.progress=false", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_evaluate_prints_headlines_and_writes_reports(trained, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", str(trained), "--dataset", "acdc-phantom", "--scale", "quick",
                                      "-n", "16", "--metrics", "dice,unet-fd,memorisation", *DATA, *FAST,
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "dice: dice " in result.output and "unet-fd: unet_fd " in result.output
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["meta"]["samples"] == 16 and report["dice"]["steps"] == 10


def test_evaluate_faults_are_one_line(trained, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", str(trained), "--dataset", "acdc-phantom", "--metrics", "fidd"])
    assert result.exit_code == 1 and "did you mean 'fid'" in result.output
    result = CliRunner().invoke(cli, ["evaluate", str(trained), "--dataset", "idrid-phantom", "--metrics",
                                      "memorisation", "-n", "4"])
    assert result.exit_code == 1 and "label map" in result.output and "Traceback" not in result.output


def test_study_writes_table2_with_baselines_and_loads_existing_runs(trained, tmp_path):
    (tmp_path / "dcgan-acdc-phantom").symlink_to(trained, target_is_directory=True)  # already trained
    result = CliRunner().invoke(cli, ["study", "--gans", "dcgan", "--datasets", "acdc-phantom", "-n", "16",
                                      "--metrics", "dice,memorisation", *DATA,
                                      "--set", "dice.steps=10", "--set", "dice.encoder_depth=3",
                                      "--set", "dice.decoder_channels=[8,8,8]", "--set", "dice.seeds=1",
                                      *FAST[6:], "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "table2.csv").open()))
    # the figures next to Table 2 (when the report extra is installed, as in CI)
    assert "[report-acdc-phantom/index.html](report-acdc-phantom/index.html)" in (tmp_path / "table2.md").read_text()
    assert (tmp_path / "report-acdc-phantom" / "fig6_unet.png").is_file()
    assert [r["source"] for r in rows] == ["original", "augmented original", "dcgan", "original + dcgan"]
    assert [r["masks"] for r in rows] == ["real", "real", "generated with the image", "real + generated with the image"]
    assert all(0 <= float(r["dice"]) <= 1 for r in rows)
    assert "| acdc-phantom | dcgan | generated with the image |" in (tmp_path / "table2.md").read_text()
    assert "dcgan on acdc-phantom: evaluating dice, memorisation" in result.output
    again = CliRunner().invoke(cli, ["study", "--gans", "dcgan", "--datasets", "acdc-phantom", "-n", "16",
                                     "--metrics", "dice,memorisation", *DATA, "--set", "dice.steps=10",
                                     "--set", "dice.encoder_depth=3", "--set", "dice.decoder_channels=[8,8,8]",
                                     "--set", "dice.seeds=1", "--no-report", "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "dcgan on acdc-phantom: evaluated before, read from" in again.output  # a re-run skips finished cells
    assert list(csv.DictReader((tmp_path / "table2.csv").open())) == rows


def test_paper_numbers_are_kept_with_their_source():
    from medgan_zoo.evaluation.study import paper_table

    table = paper_table()
    assert "Table 2" in table["source"]
    lookup = {(r["dataset"], r["source"]): r for r in table["rows"]}
    assert lookup[("acdc", "stylegan2")] == {"dataset": "acdc", "source": "stylegan2", "fid": 24.74, "dice": 0.87}
    assert lookup[("idrid", "spade")]["fid"] == 1.09 and lookup[("sliver07", "original")]["dice"] == 0.72
    assert len(table["rows"]) == 30
