"""Mask values of a user's files: a label file's names, colour masks, 0/255 binary masks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..files import under
from ..slices import DatasetError

LABEL_FILES = ("labels.json", "labels.yaml", "labels.yml")


def find_label_file(root: Path, given: Path | None) -> Path | None:
    if given is not None:
        path = under(root, given)
        if not path.is_file():
            raise DatasetError(f"folder: labels_file {path} does not exist")
        return path
    return next((root / name for name in LABEL_FILES if (root / name).is_file()), None)


def read_label_file(path: Path) -> tuple[dict[int, str], dict[tuple[int, int, int], int]]:
    """(value -> name, colour -> value) from ``{"0": "background", ...}`` or
    ``{"labels": {...}, "colours": {"255,0,0": 1}}`` (JSON or YAML)."""
    try:
        text = path.read_text()
        data: Any = json.loads(text) if path.suffix == ".json" else __import__("yaml").safe_load(text)
    except Exception as exc:
        raise DatasetError(f"{path}: not a readable label file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a mapping of mask value -> name")
    labels = data.get("labels", data) if "labels" in data or "colours" in data else data
    try:
        names = {int(k): str(v) for k, v in labels.items()}
        colours = {tuple(int(c) for c in str(k).split(",")): int(v) for k, v in (data.get("colours") or {}).items()}
    except (TypeError, ValueError, AttributeError):
        raise DatasetError(f"{path}: label values must be integers (and colours 'R,G,B': value)") from None
    if any(len(c) != 3 for c in colours):
        raise DatasetError(f"{path}: colours must be written 'R,G,B'")
    names.setdefault(0, "background")
    return names, colours


def mask_values(mask: np.ndarray, path: Path, colours: dict[tuple[int, int, int], int],
                names: dict[int, str] | None, binary_255: bool = True) -> np.ndarray:
    """An integer label map from a mask as read: colour masks through ``colours``; 0/255 binary masks
    (no 255 among the names) become 0/1."""
    if mask.ndim == 3 and mask.shape[2] == 3:
        grey = (mask[..., 0] == mask[..., 1]).all() and (mask[..., 1] == mask[..., 2]).all()
        if grey and not colours:
            mask = mask[..., 0]  # a grey mask saved as RGB
        else:
            if not colours:
                raise DatasetError(f"{path}: a colour mask; give its colours in the label file "
                                   "({'labels': {...}, 'colours': {'R,G,B': value}})")
            out = np.full(mask.shape[:2], -1, dtype=np.int64)
            for colour, value in colours.items():
                out[(mask == np.array(colour, dtype=mask.dtype)).all(axis=2)] = value
            if (out < 0).any():
                bad = mask[out < 0][0].tolist()
                raise DatasetError(f"{path}: colour {tuple(bad)} is not in the label file's colours")
            return out
    if mask.dtype.kind == "f":
        if not np.isfinite(mask).all() or (mask != np.round(mask)).any():
            raise DatasetError(f"{path}: a mask must hold integer labels (found fractional or NaN values)")
    values = mask if mask.dtype in (np.uint8, np.uint16) else mask.astype(np.int64)  # no copy when unsigned
    if binary_255 and values.size and values.max() == 255 and (names is None or 255 not in names) \
            and bool(np.all((values == 0) | (values == 255))):
        values = (values > 0).astype(np.uint8)
    if values.dtype.kind == "i" and values.size and values.min() < 0:
        raise DatasetError(f"{path}: negative mask values")
    return values


def label_map(found: set[int], names: dict[int, str] | None, where: dict[int, Path],
              label_file: Path | None) -> tuple[dict[int, str], list[int]]:
    """(consecutive label map, the original value of each index). Values outside a label file name
    the file that holds them; without a label file the values found are named ``label_N``."""
    if names is not None:
        outside = sorted(found - set(names))
        if outside:
            raise DatasetError(f"{where[outside[0]]}: mask value(s) {outside} are not in {label_file}")
        values = sorted(names)
    else:
        values = sorted(found | {0})
        warnings.warn(f"folder: no labels.json beside the data; mask values {values} are named "
                      f"{', '.join('background' if v == 0 else f'label_{v}' for v in values)} "
                      "(write labels.json to name them)", stacklevel=4)
        names = {v: ("background" if v == 0 else f"label_{v}") for v in values}
    if len(values) < 2:
        raise DatasetError(f"{label_file or 'the masks'}: only background (0) is labelled; nothing to segment (the "
                           "folder data set's masks=false trains image-only GANs)")
    return {i: names[v] for i, v in enumerate(values)}, values
