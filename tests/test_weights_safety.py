"""No code runs from a weights file, and Inception files are checked by their full sha256."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from medgan_zoo.errors import MedganZooError
from medgan_zoo.evaluation import inception
from medgan_zoo.evaluation.fid import compute_fid


class _RunsCode:
    """Unpickling this calls os.makedirs(path): a visible trace of code execution."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def test_a_weights_file_that_would_run_code_is_refused_and_leaves_no_trace(tmp_path):
    trace = tmp_path / "code-ran-here"
    evil = tmp_path / "inception.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": torch.zeros(1), "payload": _RunsCode(trace)}, evil)
    images = torch.zeros(2, 1, 32, 32)
    with pytest.warns(UserWarning, match="not the 2015-12-05 Inception"), \
            pytest.raises(MedganZooError, match="holds more than tensors.*never runs code"):
        compute_fid(images, images, weights=str(evil), device="cpu")
    assert not trace.exists()


def test_truncated_weights_say_what_to_do(tmp_path, random_inception):
    broken = tmp_path / "inception.pth"
    broken.write_bytes(random_inception.read_bytes()[:4096])
    with pytest.warns(UserWarning), pytest.raises(MedganZooError, match="truncated or corrupt Inception weights file"
                                                                        ".*re-download it"):
        compute_fid(torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 32, 32), weights=str(broken), device="cpu")


def test_a_file_found_by_name_must_have_the_published_hash(tmp_path, random_inception, monkeypatch):
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(inception, "_hub_checkpoints", lambda: tmp_path)
    shutil.copy(random_inception, tmp_path / inception.PYTORCH_FID_FILE)  # right name, other bytes
    with pytest.raises(inception.WeightsNotFound, match=f"{inception.PYTORCH_FID_FILE} has sha256 .* not the "
                                                        f"published {inception.WEIGHTS_SHA256}.*delete it"):
        inception.find_inception_weights(download=False)


def test_an_explicit_file_with_another_hash_is_used_with_a_warning(random_inception, monkeypatch):
    monkeypatch.setenv("INCEPTION_DIR", str(random_inception.parent))
    with pytest.warns(UserWarning, match="not comparable with published values"):
        found = inception.find_inception_weights("$INCEPTION_DIR/" + random_inception.name)
    assert found == random_inception  # environment variables (and ~) in the path are expanded
    assert len(inception.WEIGHTS_SHA256) == 64 and inception.WEIGHTS_SHA256.startswith(inception.HASH_PREFIX)
