"""Sampling under torchrun (part of the distributed issue): two processes (gloo on the CPU) write
exactly the files one process writes."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "dcgan"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=2, gan_config=TINY,
              dataset_config={"train_subjects": 2, "test_subjects": 1}, progress=False)
    return out


def test_two_ranks_write_the_files_of_one_process(model, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    common = ["-n", "40", "--batch-size", "8", "--seed", "3", "--format", "png", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "medgan_zoo", "sample",
                           str(model), *common, "--out", str(tmp_path / "two")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "with 2 processes" in done.stdout and done.stdout.count("wrote 40 samples") == 1  # rank 0 speaks
    single = CliRunner().invoke(cli, ["sample", str(model), *common, "--out", str(tmp_path / "one")])
    assert single.exit_code == 0, single.output
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 81 and names == sorted(p.name for p in (tmp_path / "two").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert not mismatch and not errors


def test_sampling_under_torchrun_needs_a_seed(model, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    result = CliRunner().invoke(cli, ["sample", str(model), "-n", "4", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "sampling under torchrun needs --seed" in result.output
    with pytest.raises(ValueError, match="needs a seed"):
        zoo.load(model).sample_to(tmp_path / "y", 4, shard=(0, 2))
