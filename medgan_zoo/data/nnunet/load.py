"""The ``nnunet`` data set: an nnU-Net v2 raw data set or a Decathlon folder (docs/datasets.md).

Cases become items of the ``folder`` data set's reader (every channel file read and checked against
the first, the label against them, volumes reoriented to RAS and sliced, intensities by channel
name), cases are grouped into subjects by ``subject_pattern``, and train/test is a seeded share of
subjects (``imagesTs`` has no labels, so it is never the test split).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from ..build import make_dataset, wanted
from ..cache import file_fingerprints
from ..files import require_root, under
from ..folder.check import inspect_items
from ..folder.discover import Item, read_csv, seeded_split, subject_groups
from ..folder.slicing import Reading, build_arrays
from ..slices import DatasetError, EmptySplitError, SliceDataset
from .config import NnunetConfig
from .layout import Layout, read_layout

EXPECTED = "an nnU-Net v2 raw data set (nnUNet_raw/DatasetXXX_NAME with dataset.json) or a Decathlon folder"
GROUPED = re.compile(r"(.+?)_(?:frame|ses|tp)", re.IGNORECASE)


def subjects_of(layout: Layout, config: NnunetConfig) -> list[str]:
    """Each case's subject: the pattern's first group, or the case itself (with a warning when the
    names look like several cases of one subject)."""
    names = [case.name for case in layout.cases]
    if config.subject_pattern:
        try:
            pattern = re.compile(config.subject_pattern)
        except re.error as exc:
            raise DatasetError(f"nnunet: subject_pattern {config.subject_pattern!r} is not a regex ({exc})") from None
        subjects = []
        for name in names:
            match = pattern.search(name)
            if match is None or not match.groups():
                raise DatasetError(f"nnunet: subject_pattern {config.subject_pattern!r} (with one group) does not "
                                   f"match case {name}")
            subjects.append(match.group(1))
        return subjects
    prefixes = Counter(m.group(1) for name in names if (m := GROUPED.match(name)))
    shared = [p for p, n in prefixes.items() if n > 1]
    if shared:
        example = [n for n in names if n.startswith(shared[0] + "_")][:2]
        keyword = GROUPED.match(example[0]).group(0)[len(shared[0]):]  # type: ignore[union-attr]
        warnings.warn(f"nnunet: case names look grouped by subject ({', '.join(example)} share {shared[0]!r}; "
                      f"{len(shared)} such prefixes) but each case is its own subject, so one patient's cases can "
                      f"fall in both train and test: --set dataset.subject_pattern='^(.+?){keyword}' groups them "
                      "('^(.+)$' keeps cases apart and silences this)", stacklevel=3)
    return names


def items_of(root: Path, layout: Layout, config: NnunetConfig) -> list[Item]:
    subjects = subjects_of(layout, config)
    splits = seeded_split(subjects, config.test_fraction, config.split_seed)
    groups = subject_groups(read_csv(config.groups_csv, root, ("subject", "group"), "groups_csv"), subjects, config)
    return [Item(case.images[0], case.label, subject, split, groups.get(subject), case.images[1:])
            for case, subject, split in zip(layout.cases, subjects, splits, strict=True)]


def reading(layout: Layout) -> Reading:
    """As nnU-Net reads: labels as written (no 0/255 shortcut), channels counted against dataset.json."""
    return Reading("nnunet", layout.labels, {}, layout.source, True, layout.modalities(), layout.kind == "msd",
                   len(layout.channel_names), binary_255=False)


def load_nnunet(config: NnunetConfig) -> SliceDataset:
    root = require_root("nnunet", config.data_root, EXPECTED, own_files=True)
    layout = read_layout(root)
    items = items_of(root, layout, config)
    chosen = [item for item in items if wanted(config.split, item.split)]
    if not chosen:
        raise EmptySplitError(f"nnunet: the {config.split} split of {root} is empty ({len(items)} cases, all in the "
                           "other split; test_fraction sets the share)")
    files = [layout.source] + [p for item in items for p in (item.image, *item.channels, item.mask) if p is not None]
    files += [under(root, config.groups_csv)] if config.groups_csv is not None else []
    group_names = sorted({item.group for item in items if item.group is not None}) or None
    info = {"data_root_name": root.name, "layout": layout.kind, "channel_names": layout.channel_names}
    return make_dataset("nnunet", config, None, None, file_fingerprints(root, files),
                        lambda: build_arrays(root, chosen, config, reading(layout), group_names is not None, items),
                        info, group_names)


def inspect(config: NnunetConfig) -> tuple[dict[str, Any], list[str]]:
    """``datasets check nnunet``: the layout's problem, or every case read once with every problem."""
    root = require_root("nnunet", config.data_root, EXPECTED, own_files=True)
    try:
        layout = read_layout(root)
        items = items_of(root, layout, config)
    except DatasetError as exc:
        return {"root": str(root), "summary": [f"{root}: not readable as an nnU-Net or Decathlon data set"]}, [str(exc)]
    facts, problems = inspect_items(root, items, config, reading(layout))
    facts.update(layout=layout.kind, channel_names=layout.channel_names, cases=len(layout.cases))
    facts["summary"].insert(1, f"{'nnU-Net v2' if layout.kind == 'nnunet' else 'Decathlon'} layout: "
                               f"{len(layout.cases)} case(s), channels {', '.join(layout.channel_names)}")
    return facts, problems


__all__ = ["inspect", "load_nnunet"]
