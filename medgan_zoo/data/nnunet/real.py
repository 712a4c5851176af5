"""The real pairs that go beside a model's generated ones: its training data set read again from a
data root, with the settings the model was trained with (so the real training cases are the
subjects the GAN saw, and the test cases the ones it never did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..slices import EmptySplitError, SliceDataset

#: Fields of the recorded training settings that the caller decides, not the record. The real
#: training pairs are every training subject: val_fraction held some out for choosing the GAN
#: (a sweep), and they are training data for the segmentation network all the same.
DECIDED = ("split", "resolution", "data_root", "cache", "val_fraction", "val_seed")
#: Settings that decide which subjects are test: changing them may put subjects the GAN saw there.
SPLITTING = ("test_fraction", "split_seed", "subject_pattern", "subjects_csv")


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
    import warnings

    from ...factory import load_dataset

    name = real_dataset_name(info.dataset, root, dataset)
    trained = info.training.get("train_config")
    if trained is None:
        warnings.warn("the model records no training settings (trained elsewhere?): the real test pairs are the "
                      "data set's default test split, which may hold subjects the GAN was trained on", stacklevel=2)
    recorded = dict((trained or {}).get("dataset_config") or {}) if name == info.dataset else {}
    changed = sorted(k for k in SPLITTING if k in (settings or {}) and (settings or {})[k] != recorded.get(k))
    if changed:
        warnings.warn(f"--set dataset.{changed[0]} changes which subjects are test: the real test pairs may hold "
                      "subjects the GAN was trained on", stacklevel=2)
    fields = {k: v for k, v in {**recorded, **(settings or {})}.items() if k not in DECIDED}
    train = load_dataset(name, root, "train", info.resolution, **fields)
    held = None
    if test:
        try:
            held = load_dataset(name, root, "test", info.resolution, **fields)
        except EmptySplitError:
            held = None  # a data set without a test split (test_fraction=0): nothing to add
    return train, held


__all__ = ["real_dataset_name", "real_pairs"]
