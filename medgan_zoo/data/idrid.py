"""IDRiD segmentation part A (Porwal et al., 2018): RGB fundus photographs, label 1 = optic disc.

Expected, in any nesting: ``IDRiD_NN.jpg`` under a training or testing folder (``1. Original
Images/a. Training Set``) and ``IDRiD_NN_OD.tif`` masks (``2. All Segmentation Groundtruths/a.
Training Set/5. Optic Disc``); masks may be single-channel or RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .build import make_dataset, wanted, with_progress
from .cache import file_fingerprints
from .configs import IdridConfig
from .files import find, reading, require_root, split_from_folders
from .labels import IDRID_LABELS
from .preprocessing import resample_square
from .slices import DatasetError, SliceArrays, SliceDataset

EXPECTED = ("IDRiD segmentation part A ('1. Original Images/a. Training Set/IDRiD_NN.jpg' and "
            "'2. All Segmentation Groundtruths/a. Training Set/5. Optic Disc/IDRiD_NN_OD.tif')")


def _read_pair(image_path: Path, mask_path: Path, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    with reading(image_path, "fundus image"):
        with Image.open(image_path) as img:
            full_size = img.size
            img.draft("RGB", (resolution * 2, resolution * 2))  # JPEG: decode at reduced scale
            rgb = np.asarray(img.convert("RGB"))
    with reading(mask_path, "optic-disc mask"):
        with Image.open(mask_path) as m:
            if m.size != full_size:
                raise DatasetError(f"{mask_path}: mask size {m.size} differs from image {image_path} {full_size}")
            resized = m.convert("RGB").resize((rgb.shape[1], rgb.shape[0]), Image.Resampling.NEAREST)
            gray = np.asarray(resized).max(axis=2)
    values = np.unique(gray)
    if len(values) > 2:
        raise DatasetError(f"{mask_path}: {len(values)} distinct values {values[:6].tolist()}...; "
                           "expected a binary optic-disc mask")
    return rgb, (gray > 0).astype(np.uint8)


def _fov_crop(rgb: np.ndarray, mask: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    inside = rgb.max(axis=2) > threshold
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if len(rows) == 0:
        return rgb, mask
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return rgb[box], mask[box]


def load_idrid(config: IdridConfig) -> SliceDataset:
    root = require_root("idrid", config.data_root, EXPECTED)
    images = find(root, r"(IDRiD_\d+)\.jpe?g")
    masks = find(root, r"(IDRiD_\d+)_OD\.tiff?")
    if not images:
        raise DatasetError(f"idrid: no IDRiD_NN.jpg images under {root} (expected {EXPECTED})")
    pairs = []
    for subject in sorted(images):
        image_path = images[subject][0]
        subject_split = split_from_folders(image_path, root)
        if subject_split is None:
            raise DatasetError(f"idrid: cannot tell the split of {image_path}: it is under no "
                               "'Training Set' or 'Testing Set' folder")
        if not wanted(config.split, subject_split):
            continue
        if subject not in masks:
            raise DatasetError(f"idrid: no optic-disc mask {subject}_OD.tif for {image_path} under {root} "
                               "(expected in '2. All Segmentation Groundtruths/.../5. Optic Disc')")
        pairs.append((subject, image_path, masks[subject][0]))
    if not pairs:
        raise DatasetError(f"idrid: no {config.split} images under {root}")

    def build() -> SliceArrays:
        out_images, out_masks, subjects = [], [], []
        for subject, image_path, mask_path in with_progress(pairs, f"building idrid ({config.split})"):
            rgb, mask = _read_pair(image_path, mask_path, config.resolution)
            rgb, mask = _fov_crop(rgb, mask, config.fov_threshold)
            image = rgb.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
            image, mask = resample_square(image, mask, (1.0, 1.0), config.resolution, None)
            out_images.append(image)
            out_masks.append(mask)
            subjects.append(subject)
        return SliceArrays(np.stack(out_images), np.stack(out_masks), subjects)

    files = [p for _, i, m in pairs for p in (i, m)]
    return make_dataset("idrid", config, IDRID_LABELS, 3, file_fingerprints(root, files), build)
