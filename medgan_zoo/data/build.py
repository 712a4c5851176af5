"""The path every dataset takes: sources -> cache key -> (cached) arrays -> SliceDataset."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .cache import cache_key, cached
from .configs import DatasetConfig
from .slices import DatasetError, SliceArrays, SliceDataset


def make_dataset(
    name: str,
    config: DatasetConfig,
    label_map: dict[int, str] | None,
    channels: int | None,
    sources: list[tuple[str, int, int]],
    build: Callable[[], SliceArrays],
    info: dict[str, Any] | None = None,
    group_names: list[str] | None = None,
) -> SliceDataset:
    """Build (or read from the cache) one split and wrap it, validating the contract.
    ``group_names``: the data set's classes in their order, when its slices carry one. A
    ``label_map`` or ``channels`` of None is read from the files: the builder puts them in
    ``SliceArrays.extra`` (``label_map`` with string keys, ``channels``), cached with the arrays."""
    # the validation split is cut from the training split after the build (factory.load_dataset)
    fields = config.model_dump(mode="json", exclude={"cache", "data_root", "val_fraction", "val_seed"})
    key = cache_key(name, fields, sources)
    arrays = cached(name, key, build, enabled=config.cache)
    found = arrays.extra or {}
    if label_map is None:
        label_map = {int(k): v for k, v in found["label_map"].items()}
    if channels is None:
        channels = int(found["channels"])
    info = {**found, **(info or {})}
    try:
        return SliceDataset(name, config.split, arrays, label_map, channels,
                            {"config": fields, "cache_key": key, **(info or {})}, group_names)
    except DatasetError as exc:  # the plugin's arrays break the contract: name the plugin
        raise DatasetError(f"{_label(name)}: {exc}") from None


def _label(name: str) -> str:
    from ..registry import get_registry

    datasets = get_registry().datasets
    return datasets[name].label if name in datasets else f"dataset {name!r}"


T = TypeVar("T")


def with_progress(items: Sequence[T], label: str) -> Iterator[T]:
    """Yield ``items`` (files or volumes to read and preprocess) with progress; the result is
    cached afterwards, so this runs once per data set, split and preprocessing."""
    from ..progress import Progress

    with Progress(len(items), label) as bar:
        for i, item in enumerate(items):
            yield item
            bar.update(i + 1)


def wanted(split: str, subject_split: str) -> bool:
    return split == "all" or split == subject_split
