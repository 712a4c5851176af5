"""The on-disk cache of preprocessed splits: hits, keys, atomic writes, and broken entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from medgan_zoo import load_dataset
from medgan_zoo.data import acdc
from medgan_zoo.data.cache import CACHE_ENV


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.safetensors"))


def test_second_load_reads_the_cache_without_touching_sources(write_acdc, cache_dir, monkeypatch):
    root = write_acdc(patients=(1, 2))
    first = load_dataset("acdc", root, resolution=32)
    assert len(entries(cache_dir)) == 1

    def fail(*args):
        raise AssertionError("the sources were read again")

    monkeypatch.setattr(acdc, "_read_frame", fail)
    second = load_dataset("acdc", root, resolution=32)
    assert torch.equal(first.images, second.images) and torch.equal(first.masks, second.masks)
    assert first.subject_ids == second.subject_ids
    assert torch.equal(first.subject_index, second.subject_index)


def test_key_covers_preprocessing_fields_and_source_files(write_acdc, cache_dir):
    root = write_acdc(patients=(1,))
    load_dataset("acdc", root, resolution=32)
    load_dataset("acdc", root, resolution=32, clip_percentiles=(1, 99))
    load_dataset("acdc", root, resolution=64)
    assert len(entries(cache_dir)) == 3
    source = root / "training/patient001/patient001_frame01.nii.gz"
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed
    load_dataset("acdc", root, resolution=32)
    assert len(entries(cache_dir)) == 4


def test_unreadable_entry_is_rebuilt(cache_dir):
    config = {"train_subjects": 2, "test_subjects": 1}
    good = load_dataset("acdc-phantom", resolution=32, **config)
    (entry,) = entries(cache_dir)
    entry.write_bytes(entry.read_bytes()[:100])  # truncated by a crash or a full disk
    with pytest.warns(UserWarning, match="unreadable cache entry"):
        again = load_dataset("acdc-phantom", resolution=32, **config)
    assert torch.equal(good.images, again.images)
    assert entries(cache_dir) == [entry] and entry.stat().st_size > 1000


def test_writes_are_atomic(cache_dir):
    load_dataset("idrid-phantom", resolution=32, train_images=2, test_images=1)
    files = [p.name for p in cache_dir.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].endswith(".safetensors")


def test_cache_can_be_switched_off(cache_dir):
    load_dataset("idrid-phantom", resolution=32, train_images=2, test_images=1, cache=False)
    assert entries(cache_dir) == []
