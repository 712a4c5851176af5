"""The validation split: a seeded, subject-level share of the training split, for model selection.

Any data set gets it the same way: its plugin builds the training split as always, and the subjects
drawn here become ``val`` while ``train`` keeps the rest. Subjects are drawn within each class
(group) in proportion, so a data set with classes keeps their shares in both parts.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .slices import SliceArrays, SliceDataset


def validation_subjects(dataset: SliceDataset, fraction: float, seed: int) -> list[int]:
    """Indices (into ``dataset.subject_ids``) of the validation subjects: ``round(fraction * n)``
    of each class's ``n`` subjects (subjects of unknown class form a class of their own), at least
    one overall."""
    if not 0 < fraction <= 0.5:
        raise ConfigError(f"val_fraction must be in (0, 0.5] for a val split, got {fraction}")
    subjects = len(dataset.subject_ids)
    if subjects < 2:
        raise ConfigError(f"{dataset.name}: a val split needs at least 2 training subjects, got {subjects}")
    group_of = torch.full((subjects,), -1, dtype=torch.int64)
    group_of[dataset.subject_index] = dataset.group_index
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for group in sorted(set(group_of.tolist())):
        members = np.flatnonzero(group_of.numpy() == group)
        take = int(round(fraction * len(members)))
        chosen += rng.permutation(members)[:take].tolist()
    if not chosen:
        chosen = [int(rng.integers(subjects))]
    if len(chosen) == subjects:
        chosen = chosen[:-1]
    return sorted(chosen)


def split_off(dataset: SliceDataset, split: str, fraction: float, seed: int) -> SliceDataset:
    """``dataset`` (a whole training split) cut into its ``"train"`` or ``"val"`` part."""
    held = set(validation_subjects(dataset, fraction, seed))
    keep = [i for i in range(len(dataset.subject_ids)) if (i in held) == (split == "val")]
    rows = torch.isin(dataset.subject_index, torch.tensor(keep)).nonzero().flatten()
    subjects = [dataset.subject_ids[int(i)] for i in dataset.subject_index[rows]]
    volumes = [dataset.volume_ids[int(i)] for i in dataset.volume_index[rows]]
    groups = None
    if dataset.group_names:
        groups = [dataset.group_names[int(g)] if g >= 0 else None for g in dataset.group_index[rows]]
    arrays = SliceArrays(dataset.images[rows].numpy(), dataset.masks[rows].numpy(), subjects, volumes, groups)
    # a key of its own: caches of features and reference networks must not mistake a part for the whole
    info = {**dataset.info, "cache_key": f"{dataset.info.get('cache_key')}:{split}:{fraction}:{seed}",
            "val_fraction": fraction, "val_seed": seed, "val_subjects": [dataset.subject_ids[i] for i in sorted(held)]}
    return SliceDataset(dataset.name, split, arrays, dataset.label_map, dataset.channels, info,
                        dataset.group_names or None)
