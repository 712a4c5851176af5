"""The real pairs that go beside a model's generated ones: its training data set read again from a
data root, with the settings the model was trained with (so the real training cases are the
subjects the GAN saw, and the test cases the ones it never did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..slices import DatasetError, SliceDataset

#: Fields of the recorded training settings that the caller decides, not the record.
DECIDED = ("split", "resolution", "data_root", "cache")


def real_dataset_name(trained_on: str, root: Path, given: str | None) -> str:
    """``given``, else the model's data set where it reads files, else ``nnunet`` where the root has
    a dataset.json, else ``folder``."""
    from ...registry import get_registry

    datasets = get_registry().datasets
    if given is not None:
        datasets[given]  # an unknown name: the registry's error, with the closest names
        return given
    if trained_on in datasets and "data_root" in datasets[trained_on].config.model_fields:
        return trained_on
    return "nnunet" if (root / "dataset.json").is_file() else "folder"


def real_pairs(info: Any, root: Path, dataset: str | None = None, settings: dict[str, Any] | None = None,
               test: bool = True) -> tuple[SliceDataset, SliceDataset | None]:
    """(training pairs, test pairs or None) of the data under ``root`` at the model's resolution.
    ``info``: the model's :class:`~medgan_zoo.model_info.ModelInfo`; ``settings``: data set fields
    that replace the recorded ones."""
    from ...factory import load_dataset

    name = real_dataset_name(info.dataset, root, dataset)
    trained = info.training.get("train_config") or {}
    recorded = dict(trained.get("dataset_config") or {}) if name == info.dataset else {}
    fields = {k: v for k, v in {**recorded, **(settings or {})}.items() if k not in DECIDED}
    train = load_dataset(name, root, "train", info.resolution, **fields)
    held = None
    if test:
        try:
            held = load_dataset(name, root, "test", info.resolution, **fields)
        except DatasetError as exc:
            if "split" not in str(exc) or "empty" not in str(exc):
                raise
            held = None  # a data set without a test split (test_fraction=0): nothing to add
    return train, held


__all__ = ["real_dataset_name", "real_pairs"]
