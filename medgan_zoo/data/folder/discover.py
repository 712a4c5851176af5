"""Which files are images, which are their masks, whose subject each is, and which split."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import split_from_folders, under
from ..slices import DatasetError
from .config import FilesConfig, FolderConfig
from .readers import kind, stem

IMAGE_DIRS = ("images", "image", "imgs")
MASK_DIRS = ("masks", "mask", "labels", "label", "segmentations")
FORMATS = "PNG, JPEG, TIFF, BMP, NIfTI (.nii/.nii.gz), MetaImage (.mha/.mhd), NRRD or DICOM (.dcm)"


@dataclass
class Item:
    image: Path
    mask: Path | None
    subject: str
    split: str
    group: str | None = None
    channels: tuple[Path, ...] = ()  # further image channels, one file each (nnU-Net's _0001, ...)


def read_csv(path: Path | None, root: Path, needed: tuple[str, ...], what: str) -> list[dict[str, str]]:
    """Rows of a user's CSV; its path may be relative to the data root."""
    import csv

    if path is None:
        return []
    path = under(root, path)
    if not path.is_file():
        raise DatasetError(f"folder: {what} {path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}: no column {', '.join(missing)} (it has {', '.join(reader.fieldnames or [])})")
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _role_dirs(path: Path, root: Path) -> set[str]:
    return {p.lower() for p in path.relative_to(root).parts[:-1]}


def _key(path: Path, root: Path, dirs: tuple[str, ...]) -> tuple[str, ...]:
    """The path relative to the root without its images/masks folder and extension: what pairs."""
    parts = [p for p in path.relative_to(root).parts[:-1] if p.lower() not in dirs]
    return (*parts, stem(path))


def units(root: Path) -> list[tuple[Path, str]]:
    """Every readable unit under ``root`` with its kind: picture and volume files, a folder of DICOM
    files (one series: a volume), a lone DICOM file (an image)."""
    found: list[tuple[Path, str]] = []
    dicom: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or (what := kind(path)) is None:
            continue
        if what == "dicom":
            dicom.setdefault(path.parent, []).append(path)
        else:
            found.append((path, what))
    for folder, members in dicom.items():
        found.append((folder, "volume") if len(members) > 1 else (members[0], "picture"))
    return sorted(found)


def discover(root: Path, config: FolderConfig) -> list[Item]:
    found = units(root)
    files = [p for p, _ in found]
    if not files:
        raise DatasetError(f"folder: no image files under {root} ({FORMATS})")
    kind_of = dict(found)
    kinds = set(kind_of.values())
    if len(kinds) > 1:
        pictures = [p for p in files if kind_of[p] == "picture"][:2]
        volumes = [p for p in files if kind_of[p] == "volume"][:2]
        raise DatasetError(f"folder: {root} mixes 2-D pictures ({', '.join(map(str, pictures))}) and 3-D volumes "
                           f"({', '.join(map(str, volumes))}); keep one kind per data set")
    in_dirs = any(_role_dirs(p, root) & set(MASK_DIRS) for p in files)
    images: list[Path] = []
    masks: dict[tuple[str, ...], Path] = {}
    suffixes = tuple(s.lower() for s in config.mask_suffixes)
    for path in files:
        if in_dirs and _role_dirs(path, root) & set(MASK_DIRS):
            masks[_key(path, root, MASK_DIRS)] = path
        elif not in_dirs and config.masks and stem(path).lower().endswith(suffixes):
            name = stem(path)
            base = name[: -len(next(s for s in suffixes if name.lower().endswith(s)))]
            masks[(*_key(path, root, ())[:-1], base)] = path
        else:
            images.append(path)
    if not images:
        raise DatasetError(f"folder: {root} holds masks but no images ({FORMATS})")
    pairs: list[tuple[Path, Path | None]] = []
    unpaired = []
    for image in images:
        key = _key(image, root, IMAGE_DIRS)
        mask = masks.pop(key, None)
        if config.masks and mask is None:
            unpaired.append(image)
        pairs.append((image, mask if config.masks else None))
    if unpaired:
        hint = ("masks/ (or labels/) beside images/ with the same name" if in_dirs else
                f"a file named like it plus {' or '.join(config.mask_suffixes)}, or a masks/ folder beside "
                "images/ with the same names")
        raise DatasetError(f"folder: {len(unpaired)} image(s) have no mask, e.g. {unpaired[0]} (expected {hint}); "
                           "pass masks=false (--set dataset.masks=false) to train image-only GANs")
    if config.masks and masks:
        orphan = next(iter(masks.values()))
        raise DatasetError(f"folder: {len(masks)} mask(s) have no image, e.g. {orphan}")
    subjects = [_subject(image, root, config) for image, _ in pairs]
    given_splits: list[str | None] = [None] * len(pairs)
    table = read_csv(config.subjects_csv, root, ("image", "subject"), "subjects_csv")
    if table:
        subjects, given_splits = _from_table(table, pairs, root, config)
    splits = _splits(pairs, subjects, root, config, given_splits)
    groups = subject_groups(read_csv(config.groups_csv, root, ("subject", "group"), "groups_csv"), subjects, config)
    return [Item(image, mask, subject, split, groups.get(subject))
            for (image, mask), subject, split in zip(pairs, subjects, splits, strict=True)]


def _from_table(table: list[dict[str, str]], pairs: list[tuple[Path, Path | None]], root: Path,
                config: FolderConfig) -> tuple[list[str], list[str | None]]:
    by_name: dict[str, dict[str, str]] = {}
    for row in table:
        by_name[row["image"]] = row
    subjects, splits = [], []
    seen = set()
    for image, _ in pairs:
        relative = str(image.relative_to(root))
        row = by_name.get(relative) or by_name.get(stem(image)) or by_name.get(image.name)
        if row is None:
            raise DatasetError(f"{config.subjects_csv}: no row for {relative} (column image: its path relative to "
                               "the data root, or its name)")
        seen.add(row["image"])
        split = row.get("split") or None
        if split not in (None, "train", "test"):
            raise DatasetError(f"{config.subjects_csv}: split {split!r} for {relative}; use train or test")
        subjects.append(row["subject"] or stem(image))
        splits.append(split)
    extra = sorted(set(by_name) - seen)
    if extra:
        raise DatasetError(f"{config.subjects_csv}: row(s) for image(s) that are not there, e.g. {extra[0]!r}")
    return subjects, splits


def subject_groups(table: list[dict[str, str]], subjects: list[str], config: FilesConfig) -> dict[str, str]:
    """Each subject's class from the rows of ``groups_csv``."""
    if not table:
        return {}
    groups = {row["subject"]: row["group"] for row in table if row["group"]}
    unknown = sorted(set(groups) - set(subjects))
    if unknown:
        raise DatasetError(f"{config.groups_csv}: subject(s) that are not in the data, e.g. {unknown[0]!r}")
    return groups


def _subject(image: Path, root: Path, config: FolderConfig) -> str:
    if config.subject_pattern:
        match = re.search(config.subject_pattern, image.name)
        if not match or not match.groups():
            raise DatasetError(f"folder: subject_pattern {config.subject_pattern!r} (with one group) does not match "
                               f"{image.name}")
        return match.group(1)
    folders = [p for p in image.relative_to(root).parts[:-1]
               if p.lower() not in IMAGE_DIRS + MASK_DIRS and "train" not in p.lower() and "test" not in p.lower()]
    return "/".join(folders) if folders else stem(image)


def _splits(pairs: list[tuple[Path, Path | None]], subjects: list[str], root: Path,
            config: FolderConfig, given: list[str | None]) -> list[str]:
    named = given if any(given) else [split_from_folders(image, root) for image, _ in pairs]
    if any(named):
        if not all(named):
            loose = next(image for (image, _), n in zip(pairs, named, strict=True) if n is None)
            raise DatasetError(f"folder: {loose} has no split while others do (train/test folders or the CSV's "
                               "split column); give every file one, or none (a seeded test_fraction then splits "
                               "by subject)")
        crossing = {s for s, n in zip(subjects, named, strict=True)
                    if {m for t, m in zip(subjects, named, strict=True) if t == s} == {"train", "test"}}
        if crossing:
            raise DatasetError(f"folder: subject {sorted(crossing)[0]!r} has files in both train and test folders")
        return [str(n) for n in named]
    return seeded_split(subjects, config.test_fraction, config.split_seed)


def seeded_split(subjects: list[str], fraction: float, seed: int) -> list[str]:
    """'train' or 'test' for each entry: a seeded share ``fraction`` of the distinct subjects is test
    (at least one, and never all, when there are two or more)."""
    unique = sorted(set(subjects))
    rng = np.random.default_rng(seed)
    count = int(round(fraction * len(unique)))
    if fraction > 0 and len(unique) >= 2:
        count = min(max(count, 1), len(unique) - 1)
    test = set(rng.permutation(unique)[:count].tolist()) if fraction > 0 else set()
    return ["test" if s in test else "train" for s in subjects]
