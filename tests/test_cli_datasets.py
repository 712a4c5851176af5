"""``medgan-zoo datasets``: list, show, preview."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from medgan_zoo.cli import cli

SMALL = ["--set", "train_subjects=3", "--set", "test_subjects=1"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_datasets_lists_all_eight(runner):
    result = runner.invoke(cli, ["datasets", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == {"acdc", "sliver07", "idrid", "acdc-phantom", "sliver07-phantom", "idrid-phantom", "folder",
                         "nnunet"}
    assert rows["folder"]["label_map"] is None and rows["folder"]["channels"] is None  # from the files
    assert rows["acdc"]["label_map"] == {"0": "background", "1": "right ventricle", "2": "myocardium",
                                         "3": "left ventricle"}
    assert rows["idrid-phantom"]["channels"] == 3 and rows["idrid-phantom"]["phantom"] is True
    table = runner.invoke(cli, ["datasets"])
    assert "fundus photograph" in table.output and "from the data" in table.output


def test_datasets_show_counts_and_frequencies(runner):
    result = runner.invoke(cli, ["datasets", "show", "acdc-phantom", "--resolution", "32", *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert set(info["splits"]) == {"train", "test"}  # both splits unless --split says otherwise
    train, test = info["splits"]["train"], info["splits"]["test"]
    assert train["subjects"] == 3 and test["subjects"] == 1
    assert train["slices"] == sum(train["slices_per_subject"].values())
    assert abs(sum(train["class_frequencies"].values()) - 1) < 1e-9
    text = runner.invoke(cli, ["datasets", "show", "acdc-phantom", "--resolution", "32", *SMALL])
    assert train["volumes"] == 6 and test["volumes"] == 2  # ED and ES of each exam
    assert "acdc-phantom (train): 3 subjects, 6 volumes" in text.output
    assert "acdc-phantom (test): 1 subject, 2 volumes" in text.output
    assert "left ventricle" in text.output


def test_datasets_show_real_data(runner, write_idrid):
    root = write_idrid()
    result = runner.invoke(cli, ["datasets", "show", "idrid", "--data-root", str(root), "--split", "test",
                                 "--resolution", "32", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["splits"]["test"]["slices_per_subject"] == {"IDRiD_55": 1}  # progress: stderr


@pytest.mark.parametrize(("name", "settings"), [
    ("acdc-phantom", ["--set", "train_subjects=1"]),
    ("sliver07-phantom", ["--set", "volumes=2", "--set", "test_volumes=[2]", "--set", "slices_per_volume=8"]),
    ("idrid-phantom", ["--set", "train_images=4"]),
])
def test_datasets_preview_writes_a_grid(runner, tmp_path, name, settings):
    out = tmp_path / "grid.png"
    result = runner.invoke(cli, ["datasets", "preview", name, "--resolution", "32", "-n", "4",
                                 "--columns", "2", *settings, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        # 2 columns of [image | overlay] tiles, 2 rows, 2 px gutters, under a title and legend band
        grid_width, grid_height = 2 + 2 * (32 * 2 + 2 + 2), 2 + 2 * (32 + 2)
        assert image.size[0] >= grid_width and 20 <= image.size[1] - grid_height <= 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["datasets", "show", "acdc"], "pass data_root"),
        (["datasets", "show", "acdc", "--data-root", "/nonexistent/acdc"], "does not exist"),
        (["datasets", "show", "acdc-fantom"], "did you mean 'acdc-phantom'"),
        (["datasets", "show", "acdc-phantom", "--set", "seed=-1"], "field 'seed'"),
        (["datasets", "show", "acdc-phantom", "--set", "seed"], "expected key=value"),
    ],
)
def test_dataset_faults_are_one_line(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
