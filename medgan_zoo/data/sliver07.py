"""SLiver07 (Heimann et al., 2009): contrast CT in HU, label 1 = liver (tumours included).

Expected, in any nesting: ``liver-orig0NN.mhd`` scans and ``liver-segNNN.mhd`` labels (MetaImage
headers with their ``.raw`` data), in one folder or in separate ``scan/`` and ``label/`` folders.
Read with SimpleITK (the ``medgan-zoo[sliver07]`` extra): MetaImage has many header variants
(compressed data, byte order, element types) that a maintained reader already handles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .build import make_dataset, with_progress
from .cache import file_fingerprints
from .configs import Sliver07Config
from .files import find, reading, require_root
from .labels import SLIVER07_LABELS
from .preprocessing import hu_window, resample_square
from .slices import DatasetError, SliceArrays, SliceDataset

EXPECTED = "the SLiver07 training data (liver-origNNN.mhd/.raw and liver-segNNN.mhd/.raw)"


def _sitk():
    try:
        import SimpleITK
    except ImportError:
        raise DatasetError(
            "sliver07 reads MetaImage files with SimpleITK: pip install 'medgan-zoo[sliver07]'"
        ) from None
    return SimpleITK


def _read(path: Path, what: str) -> tuple[np.ndarray, tuple[float, float]]:
    """Array [z, y, x] and in-plane spacing (row, column) in mm."""
    sitk = _sitk()
    with reading(path, what):
        image = sitk.ReadImage(str(path))
        array = sitk.GetArrayFromImage(image)
        spacing = image.GetSpacing()
    if array.ndim != 3:
        raise DatasetError(f"{path}: expected a 3D volume, got shape {array.shape}")
    return array, (float(spacing[1]), float(spacing[0]))


def _labels(path: Path, array: np.ndarray) -> np.ndarray:
    values = set(np.unique(array).tolist())
    if values <= {0, 1}:
        return array.astype(np.uint8)
    if values <= {0, 255}:  # some copies store the liver as 255
        return (array > 0).astype(np.uint8)
    raise DatasetError(f"{path}: label values {sorted(values)[:10]} are not a binary liver mask (0/1 or 0/255)")


def _companions(header: Path) -> list[Path]:
    """The header and its data file(s), for the cache fingerprint."""
    return [p for p in header.parent.glob(header.stem + ".*") if p.suffix.lower() in (".mhd", ".raw", ".zraw")]


def load_sliver07(config: Sliver07Config) -> SliceDataset:
    root = require_root("sliver07", config.data_root, EXPECTED)
    scans = find(root, r"liver-orig(\d+)\.mhd")
    labels = find(root, r"liver-seg(\d+)\.mhd")
    if not scans:
        raise DatasetError(f"sliver07: no liver-origNNN.mhd scans under {root} (expected {EXPECTED})")
    volumes = []
    for number in sorted(scans, key=int):
        scan = scans[number][0]
        if number not in labels:
            raise DatasetError(
                f"sliver07: scan {scan} has no label liver-seg{number}.mhd anywhere under {root}"
            )
        test = int(number) in config.test_volumes
        if config.split == "all" or (config.split == "test") == test:
            volumes.append((f"liver-{number}", scan, labels[number][0]))
    if not volumes:
        raise DatasetError(f"sliver07: no {config.split} volumes under {root} "
                           f"(test_volumes={list(config.test_volumes)}, found {sorted(scans, key=int)})")

    def build() -> SliceArrays:
        out_images, out_masks, subjects = [], [], []
        for subject, scan, label in with_progress(volumes, f"building sliver07 ({config.split})"):
            volume, spacing = _read(scan, "MetaImage scan")
            raw_mask, _ = _read(label, "MetaImage label")
            if raw_mask.shape != volume.shape:
                raise DatasetError(f"{label}: label shape {raw_mask.shape} differs from scan {scan} {volume.shape}")
            mask = _labels(label, raw_mask)
            volume = hu_window(volume, config.hu_level, config.hu_width)
            for z in range(volume.shape[0]):
                if config.foreground_slices_only and not mask[z].any():
                    continue
                image, m = resample_square(volume[None, z], mask[z], spacing, config.resolution,
                                           config.field_of_view_mm)
                out_images.append(image)
                out_masks.append(m)
                subjects.append(subject)
        return SliceArrays(np.stack(out_images), np.stack(out_masks), subjects)

    files = [p for _, scan, label in volumes for h in (scan, label) for p in _companions(h)]
    return make_dataset("sliver07", config, SLIVER07_LABELS, 1, file_fingerprints(root, files), build)
