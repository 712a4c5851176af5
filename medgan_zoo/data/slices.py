"""The in-memory dataset every dataset plugin returns: 2D image/mask pairs grouped by subject."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import MedganZooError


class DatasetError(MedganZooError, ValueError):
    """Data on disk (or produced by a generator) that breaks the dataset contract."""


class EmptySplitError(DatasetError):
    """The asked split has no subject (e.g. a test split with test_fraction 0)."""


@dataclass(frozen=True)
class SliceArrays:
    """What a dataset builder produces, before it becomes tensors (and what the cache stores)."""

    images: np.ndarray  # float32 [N, C, H, W] in [-1, 1]
    masks: np.ndarray  # uint8 [N, H, W]
    subjects: list[str]  # one per slice: the patient (splits never cut through one)
    volumes: list[str] | None = None  # one per slice: the scored volume (None: the subject's)
    groups: list[str | None] | None = None  # one per slice: the subject's class (None: unknown); None: no classes
    extra: dict[str, Any] | None = None  # what a builder learned from the files (a label map), cached with them

    @property
    def volume_ids(self) -> list[str]:
        return self.subjects if self.volumes is None else self.volumes

    def validate(self, name: str, label_map: dict[int, str], channels: int) -> None:
        n = len(self.images)
        if n == 0:
            raise DatasetError(f"{name}: the split has no slices")
        if self.images.ndim != 4 or self.images.shape[1] != channels:
            raise DatasetError(f"{name}: images have shape {self.images.shape}, expected [N, {channels}, H, W]")
        if self.images.dtype.kind != "f":
            raise DatasetError(f"{name}: images are {self.images.dtype}, expected float32 in [-1, 1]")
        low, high = float(self.images.min()), float(self.images.max())
        if not (np.isfinite(low) and np.isfinite(high)):
            raise DatasetError(f"{name}: images hold NaN or infinite values")
        if low < -1.001 or high > 1.001:
            raise DatasetError(f"{name}: images span [{low:.4g}, {high:.4g}], expected [-1, 1] (8-bit pictures: "
                               "x / 127.5 - 1)")
        if self.masks.dtype.kind not in "iu":
            raise DatasetError(f"{name}: masks are {self.masks.dtype}, expected integer labels (uint8)")
        if self.masks.shape != (n, *self.images.shape[2:]):
            raise DatasetError(f"{name}: masks {self.masks.shape} do not match images {self.images.shape}")
        if len(self.subjects) != n:
            raise DatasetError(f"{name}: {len(self.subjects)} subject ids for {n} slices")
        if len(self.volume_ids) != n:
            raise DatasetError(f"{name}: {len(self.volume_ids)} volume ids for {n} slices")
        if self.groups is not None and len(self.groups) != n:
            raise DatasetError(f"{name}: {len(self.groups)} groups for {n} slices")
        owner: dict[str, str] = {}
        for volume, subject in zip(self.volume_ids, self.subjects, strict=True):
            if owner.setdefault(volume, subject) != subject:
                raise DatasetError(f"{name}: volume {volume!r} spans subjects {owner[volume]!r} and {subject!r}")
        bad = sorted(set(np.unique(self.masks).tolist()) - set(label_map))
        if bad:
            raise DatasetError(f"{name}: mask values {bad} are outside the label map {label_map}")


class SliceDataset(Dataset):
    """2D pairs held in memory: ``dataset[i]`` is a dict with ``image`` float32 [C,H,W] in [-1, 1],
    ``mask`` int64 [H,W], ``subject`` (the patient: splits are by subject), ``volume`` (the unit
    Dice is scored on: a patient's phase for ACDC, a scan for SLiver07, an image for IDRiD),
    ``group`` (the subject's class, e.g. ACDC's ``dcm``; None where unknown or the data set has
    none) and ``index``.

    ``group_names`` lists the classes (empty: none) and ``group_index`` gives each slice's class as
    an index into it (-1: unknown).

    ``images`` and ``masks`` (uint8, to save memory) give the whole split at once for training loops
    that keep the data on the device.
    """

    def __init__(self, name: str, split: str, arrays: SliceArrays, label_map: dict[int, str],
                 channels: int, info: dict[str, Any] | None = None, group_names: list[str] | None = None):
        arrays.validate(f"{name} ({split})", label_map, channels)
        self.name = name
        self.split = split
        self.label_map = dict(label_map)
        self.channels = channels
        self.info = dict(info or {})
        self.images = torch.from_numpy(np.ascontiguousarray(arrays.images, dtype=np.float32))
        self.masks = torch.from_numpy(np.ascontiguousarray(arrays.masks, dtype=np.uint8))
        self.subject_ids: list[str] = list(dict.fromkeys(arrays.subjects))
        lookup = {s: i for i, s in enumerate(self.subject_ids)}
        self.subject_index = torch.tensor([lookup[s] for s in arrays.subjects], dtype=torch.int64)
        self.volume_ids: list[str] = list(dict.fromkeys(arrays.volume_ids))
        lookup = {v: i for i, v in enumerate(self.volume_ids)}
        self.volume_index = torch.tensor([lookup[v] for v in arrays.volume_ids], dtype=torch.int64)
        groups = arrays.groups or []
        known = sorted({g for g in groups if g is not None})
        self.group_names: list[str] = list(group_names) if group_names is not None and groups else known
        unexpected = sorted(set(known) - set(self.group_names))
        if unexpected:
            raise DatasetError(f"{name} ({split}): groups {unexpected} are not among {self.group_names}")
        order = {g: i for i, g in enumerate(self.group_names)}
        self.group_index = torch.tensor([order[g] if g is not None else -1 for g in groups] if groups
                                        else [-1] * len(self.images), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.name}: index {index} out of range for {len(self)} slices")
        return {
            "image": self.images[index],
            "mask": self.masks[index].long(),
            "subject": self.subject_ids[int(self.subject_index[index])],
            "volume": self.volume_ids[int(self.volume_index[index])],
            "group": self.group_names[g] if (g := int(self.group_index[index])) >= 0 else None,
            "index": index % len(self),
        }

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    def slices_per_subject(self) -> dict[str, int]:
        counts = Counter(self.subject_index.tolist())
        return {self.subject_ids[i]: counts[i] for i in range(len(self.subject_ids))}

    def subject_slices(self, subject: str) -> torch.Tensor:
        """Indices of one subject's slices, in order."""
        return torch.nonzero(self.subject_index == self.subject_ids.index(subject)).flatten()

    def volume_slices(self, volume: str) -> torch.Tensor:
        """Indices of one volume's slices, in order (what 3D Dice is computed on)."""
        return torch.nonzero(self.volume_index == self.volume_ids.index(volume)).flatten()

    def class_frequencies(self) -> dict[str, float]:
        """Fraction of all pixels that carry each label."""
        counts = torch.bincount(self.masks.flatten().long(), minlength=len(self.label_map))
        total = counts.sum().item()
        return {self.label_map[i]: counts[i].item() / total for i in range(len(self.label_map))}

    def group_counts(self) -> dict[str, int]:
        """Slices per class ('unknown': slices of subjects without one); empty without classes."""
        if not self.group_names:
            return {}
        counts = Counter(self.group_index.tolist())
        out = {name: counts[i] for i, name in enumerate(self.group_names)}
        if counts[-1]:
            out["unknown"] = counts[-1]
        return out

    def summary(self) -> dict[str, Any]:
        per_subject = self.slices_per_subject()
        groups = {"groups": self.group_counts()} if self.group_names else {}
        return {
            "name": self.name,
            "split": self.split,
            "subjects": len(per_subject),
            "volumes": len(self.volume_ids),
            "slices": len(self),
            "resolution": self.resolution,
            "channels": self.channels,
            "label_map": self.label_map,
            "class_frequencies": self.class_frequencies(),
            **groups,
        }

    def __repr__(self) -> str:
        return (f"SliceDataset({self.name!r}, split={self.split!r}, slices={len(self)}, "
                f"subjects={len(self.subject_ids)}, resolution={self.resolution})")
