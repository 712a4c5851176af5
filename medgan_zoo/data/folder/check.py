"""``datasets check folder``: every file read once, every problem collected (not just the first),
and what was found: subjects, slices per split, label values and their pixel shares, sizes, spacing
and intensity ranges."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..build import with_progress
from ..files import require_root
from ..slices import DatasetError
from .config import FilesConfig, FolderConfig
from .discover import Item, discover
from .labels import find_label_file, mask_values, read_label_file
from .load import EXPECTED
from .readers import LOSSY, read, slices
from .slicing import Reading, check_item, read_item


def inspect(config: FolderConfig) -> tuple[dict[str, Any], list[str]]:
    """(facts, problems): each problem one line naming its file."""
    problems: list[str] = []
    root = require_root("folder", config.data_root, EXPECTED, own_files=True)
    try:
        items = discover(root, config)
    except DatasetError as exc:
        return {"root": str(root), "summary": [f"{root}: not readable as a folder data set"]}, [str(exc)]
    label_file = None
    names: dict[int, str] | None = None
    colours: dict = {}
    if config.masks:
        try:
            label_file = find_label_file(root, config.labels_file)
            if label_file is not None:
                names, colours = read_label_file(label_file)
        except DatasetError as exc:
            problems.append(str(exc))
    facts, found = inspect_items(root, items, config, Reading("folder", names, colours, label_file, config.masks))
    return facts, problems + found


def inspect_items(root: Path, items: list[Item], config: FilesConfig, how: Reading) -> tuple[dict[str, Any], list[str]]:
    """Every item read once; (facts, problems) with each problem one line naming its file."""
    problems: list[str] = []
    pixels: Counter[int] = Counter()
    sizes: Counter[str] = Counter()
    spacings: list[tuple[float, ...]] = []
    low, high = float("inf"), float("-inf")
    per_split: Counter[str] = Counter()
    subjects: dict[str, set[str]] = {"train": set(), "test": set()}
    for item in with_progress(items, f"checking {how.dataset}"):  # every file is read: a large set takes a while
        try:
            if item.mask is not None and item.mask.name.lower().endswith(LOSSY):
                raise DatasetError(f"{item.mask}: a JPEG mask (lossy: label values change at edges); save it as PNG")
            grids = read_item(item, how)
            mask = read(item.mask, "mask") if item.mask is not None else None
            check_item(grids, mask, item, config.tolerance, how)
            if mask is not None:
                for part in slices(mask, config.axis)[0]:
                    values = mask_values(part, item.mask, how.colours, how.names, how.binary_255)
                    pixels.update(dict(zip(*np.unique(values, return_counts=True), strict=True)))
            count = len(slices(grids[0], config.axis)[0])
        except DatasetError as exc:
            problems.append(str(exc))
            continue
        grid = grids[0]
        per_split[item.split] += count
        subjects[item.split].add(item.subject)
        sizes["x".join(str(v) for v in grid.array.shape)] += 1
        spacings.append(tuple(round(float(s), 4) for s in grid.spacing))
        low = min(low, *(float(g.array.min()) for g in grids))
        high = max(high, *(float(g.array.max()) for g in grids))
    if how.names is not None:
        for value in sorted(set(pixels) - set(how.names)):
            problems.append(f"{how.label_source}: mask value {value} is in the masks but not among its labels")
    total = sum(pixels.values()) or 1
    facts = {
        "root": str(root), "files": len(items),
        "label_file": str(how.label_source) if how.label_source else None,
        "subjects": {k: len(v) for k, v in subjects.items()}, "slices": dict(per_split),
        "label_values": {int(v): {"name": (how.names or {}).get(int(v), "background" if v == 0 else f"label_{v}"),
                                  "pixel_share": round(c / total, 6)} for v, c in sorted(pixels.items())},
        "image_sizes": dict(sizes.most_common(5)),
        "spacing_range": [list(map(min, zip(*spacings, strict=True))), list(map(max, zip(*spacings, strict=True)))]
        if spacings else None,
        "intensity_range": [low, high] if spacings else None,
    }
    facts["summary"] = describe(facts)
    return facts, problems


def describe(facts: dict[str, Any]) -> list[str]:
    """The facts as lines for a terminal."""
    lines = [f"{facts['root']}: {facts.get('files', 0)} image file(s) or series"]
    if "subjects" in facts and not any(facts["slices"].values()):
        lines.append("no file could be read (the problems below say why)")
    elif "subjects" in facts:
        lines.append("subjects: " + ", ".join(f"{k} {v}" for k, v in facts["subjects"].items())
                     + "; slices: " + ", ".join(f"{k} {v}" for k, v in facts["slices"].items()))
        if facts["label_values"]:
            lines.append("labels (value name pixel share): " + ", ".join(
                f"{v} {d['name']} {d['pixel_share']:.2%}" for v, d in facts["label_values"].items())
                + ("" if facts["label_file"] else " (no label file: names made up)"))
        lines.append("image sizes: " + ", ".join(f"{k} x{n}" for k, n in facts["image_sizes"].items()))
        if facts["spacing_range"]:
            lines.append(f"spacing from {facts['spacing_range'][0]} to {facts['spacing_range'][1]}; intensities "
                         f"{facts['intensity_range'][0]:g} to {facts['intensity_range'][1]:g}")
    return lines


__all__ = ["describe", "inspect", "inspect_items"]
