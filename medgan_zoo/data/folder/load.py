"""The built-in ``folder`` data set: a researcher's own files, no plugin needed (docs/datasets.md).

Pictures (PNG, JPEG, TIFF, BMP through Pillow) or volumes (NIfTI through nibabel, MetaImage and
NRRD through SimpleITK, reoriented to RAS and sliced along an anatomical axis), each with its mask
(images/ + masks/ folders, or a mask suffix beside the image), subjects from folders or a pattern,
train/test from folders or a seeded share of subjects, the label map from labels.json or the values
found. The label map and channels come from the files, so the spec leaves them to the data.
"""

from __future__ import annotations

from pathlib import Path

from ..build import make_dataset, wanted
from ..cache import file_fingerprints
from ..files import require_root, under
from ..slices import DatasetError, EmptySplitError, SliceArrays, SliceDataset
from .config import FolderConfig
from .discover import FORMATS, Item, discover
from .labels import find_label_file, read_label_file
from .readers import LOSSY
from .slicing import Reading, build_arrays

EXPECTED = f"a folder of your own images and masks ({FORMATS}): docs/datasets.md, 'Your own data'"


def load_folder(config: FolderConfig) -> SliceDataset:
    root = require_root("folder", config.data_root, EXPECTED, own_files=True)
    items = discover(root, config)
    label_file = find_label_file(root, config.labels_file) if config.masks else None
    for item in items:
        if item.mask is not None and item.mask.name.lower().endswith(LOSSY):
            raise DatasetError(f"{item.mask}: a JPEG mask; JPEG's lossy compression changes label values at "
                               "edges: save masks as PNG or TIFF")
    files = [p for item in items for p in (item.image, item.mask) if p is not None]
    files += [label_file] if label_file is not None else []
    files += [under(root, p) for p in (config.subjects_csv, config.groups_csv) if p is not None]
    files = [f for p in files for f in (sorted(p.glob("*.dcm")) if p.is_dir() else [p])]
    chosen = [item for item in items if wanted(config.split, item.split)]
    if not chosen:
        raise EmptySplitError(f"folder: the {config.split} split of {root} is empty ({len(items)} files, all in the "
                           "other split; test_fraction sets the share)")
    group_names = sorted({item.group for item in items if item.group is not None}) or None
    return make_dataset("folder", config, None, None, file_fingerprints(root, files),
                        lambda: _build(root, chosen, config, label_file, group_names is not None, items),
                        {"data_root_name": root.name}, group_names)


def _build(root: Path, items: list[Item], config: FolderConfig, label_file: Path | None, with_groups: bool,
           every: list[Item]) -> SliceArrays:
    names, colours = read_label_file(label_file) if label_file is not None else (None, {})
    how = Reading("folder", names, colours, label_file, config.masks)
    return build_arrays(root, items, config, how, with_groups, every)


__all__ = ["load_folder"]
