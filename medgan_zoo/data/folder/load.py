"""The built-in ``folder`` data set: a researcher's own files, no plugin needed (docs/datasets.md).

Pictures (PNG, JPEG, TIFF, BMP through Pillow) or volumes (NIfTI through nibabel, MetaImage and
NRRD through SimpleITK, reoriented to RAS and sliced along an anatomical axis), each with its mask
(images/ + masks/ folders, or a mask suffix beside the image), subjects from folders or a pattern,
train/test from folders or a seeded share of subjects, the label map from labels.json or the values
found. The label map and channels come from the files, so the spec leaves them to the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..build import make_dataset, wanted, with_progress
from ..cache import file_fingerprints
from ..files import require_root, under
from ..preprocessing import hu_window, percentile_scale, resample_batch
from ..slices import DatasetError, SliceArrays, SliceDataset
from .config import FolderConfig
from .discover import FORMATS, Item, discover
from .labels import find_label_file, label_map, mask_values, read_label_file
from .readers import LOSSY, Grid, header_shape, read, slice_count, slices

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
        raise DatasetError(f"folder: the {config.split} split of {root} is empty ({len(items)} files, all in the "
                           "other split; test_fraction sets the share)")
    group_names = sorted({item.group for item in items if item.group is not None}) or None
    return make_dataset("folder", config, None, None, file_fingerprints(root, files),
                        lambda: _build(root, chosen, config, label_file, group_names is not None, items),
                        {"data_root_name": root.name}, group_names)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux and macOS; None where the system does not say)."""
    import os

    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(items: list[Item], config: FolderConfig) -> None:
    """Refuse a split that would not fit, before reading it (slice counts from the headers)."""
    available = available_memory()
    if available is None:
        return
    slices = sum(slice_count(item.image, config.axis) for item in items)
    needed = slices * config.resolution ** 2 * (3 * 4 + 1)  # up to 3 float32 channels and a uint8 mask
    if needed > config.max_memory_fraction * available:
        size = f"{config.resolution}x{config.resolution}"
        raise DatasetError(f"folder: the {config.split} split would take about {needed / 1e9:.1f} GB ({slices} slices "
                           f"at {size}), more than {config.max_memory_fraction:.0%} of the {available / 1e9:.1f} GB "
                           "available: lower the resolution, keep fewer slices (keep_empty=false) or fewer subjects")


def _build(root: Path, items: list[Item], config: FolderConfig, label_file: Path | None,
           with_groups: bool, every: list[Item]) -> SliceArrays:
    _check_memory(items, config)  # a cache miss only: a cached split is already in memory's reach
    _check_headers([item for item in every if item not in items])
    names, colours = read_label_file(label_file) if label_file is not None else (None, {})
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    spacings: list[tuple[float, float]] = []
    subjects: list[str] = []
    volumes: list[str] = []
    groups: list[str | None] = []
    found: set[int] = set()
    where: dict[int, Path] = {}
    channels: set[int] = set()
    for item in with_progress(items, "reading folder"):
        grid = read(item.image, "image")
        mask_grid = read(item.mask, "mask") if item.mask is not None else None
        if mask_grid is not None:
            _agree(grid, mask_grid, item, config.tolerance)
        picture_slices, spacing = slices(grid, config.axis)
        mask_slices = (slices(mask_grid, config.axis)[0] if mask_grid is not None
                       else [np.zeros(s.shape[:2], dtype=np.uint8) for s in picture_slices])
        scaled = _intensities(grid, picture_slices, item.image, config)
        for image, mask in zip(scaled, mask_slices, strict=True):
            values = mask_values(mask, item.mask, colours, names) if item.mask is not None else mask
            if not config.keep_empty and item.mask is not None and not values.any():
                continue
            for v in np.flatnonzero(np.bincount(values.ravel())).tolist():
                if v not in found:
                    found.add(v)
                    where[v] = item.mask or item.image
            channels.add(image.shape[0])
            images.append(image)
            masks.append(values)
            spacings.append(spacing)
            subjects.append(item.subject)
            groups.append(item.group)
            volumes.append(str(item.image.relative_to(root)) if len(grid.spacing) == 3 else item.subject)
    if not images:
        raise DatasetError(f"folder: no slices left in {root} (keep_empty=false dropped every slice)")
    if len(channels) > 1:
        raise DatasetError(f"folder: images of {root} mix {sorted(channels)} channels (grey and RGB); convert them "
                           "to one")
    if config.masks:
        mapping, values = label_map(found, names, where, label_file)
    else:
        mapping, values = {0: "background"}, [0]
    lookup = np.full(max(values) + 1, 0, dtype=np.uint8)
    lookup[values] = np.arange(len(values), dtype=np.uint8)
    out_images = np.empty((len(images), channels_of(images), config.resolution, config.resolution), np.float32)
    out_masks = np.empty((len(images), config.resolution, config.resolution), np.uint8)
    start = 0
    while start < len(images):  # runs of slices with one shape and spacing (a volume's): one call each
        end = start + 1
        while end < len(images) and end - start < 512 and images[end].shape == images[start].shape \
                and spacings[end] == spacings[start]:  # at most 512 slices a call: bounded memory
            end += 1
        out_images[start:end], out_masks[start:end] = resample_batch(
            np.stack(images[start:end]), lookup[np.stack(masks[start:end])], spacings[start], config.resolution,
            config.field_of_view_mm)
        start = end
    extra = {"label_map": {str(k): v for k, v in mapping.items()}, "channels": channels.pop(),
             "label_values": values, "masks": config.masks}
    return SliceArrays(out_images, out_masks, subjects, volumes,
                       groups if with_groups else None, extra)


def _check_headers(items: list[Item]) -> None:
    """The other splits' pairs, by their headers: a mask whose shape differs from its image is found
    now, not when that split is first read (the cache key covers every split's files)."""
    for item in items:
        if item.mask is None:
            continue
        image, mask = header_shape(item.image), header_shape(item.mask)
        if image and mask and image[:3] != mask[:3] and not (len(image) == 1 or len(mask) == 1):
            raise DatasetError(f"{item.mask}: mask shape {mask} differs from its image {item.image} {image} "
                               f"(in the {item.split} split)")


def channels_of(images: list[np.ndarray]) -> int:
    return int(images[0].shape[0])


def _agree(image: Grid, mask: Grid, item: Item, tolerance: float) -> None:
    shape_i = image.array.shape[:3] if image.array.ndim == 3 and len(image.spacing) == 3 else image.array.shape[:2]
    shape_m = mask.array.shape[:3] if mask.array.ndim == 3 and len(mask.spacing) == 3 else mask.array.shape[:2]
    if shape_i != shape_m:
        raise DatasetError(f"{item.mask}: mask shape {shape_m} differs from its image {item.image} {shape_i}")
    if len(image.spacing) == 3:
        if not np.allclose(image.spacing, mask.spacing, rtol=tolerance):
            raise DatasetError(f"{item.mask}: spacing {tuple(round(s, 4) for s in mask.spacing)} differs from its "
                               f"image {item.image} {tuple(round(s, 4) for s in image.spacing)}")
        scale = max(max(image.spacing), 1.0)
        if not np.allclose(image.origin, mask.origin, atol=tolerance * scale * 10):
            raise DatasetError(f"{item.mask}: origin differs from its image {item.image}")
        if not np.allclose(image.direction, mask.direction, atol=tolerance * 10):
            raise DatasetError(f"{item.mask}: orientation (direction) differs from its image {item.image}; the "
                               "mask would be flipped or rotated against it")


def _intensities(grid: Grid, parts: list[np.ndarray], path: Path, config: FolderConfig) -> list[np.ndarray]:
    """Each slice [C, H, W] in [-1, 1] by ``config.modality``."""
    volume = len(grid.spacing) == 3
    modality = config.modality
    if modality == "auto" and grid.modality in ("CT", "MR"):  # DICOM says
        modality = grid.modality.lower()
    if modality == "auto":
        if volume:
            raise DatasetError(f"{path}: modality 'auto' cannot tell CT from MR here (NIfTI, MetaImage and NRRD "
                               "have no modality field; DICOM's says "
                               f"{grid.modality or 'nothing'}): --set dataset.modality=ct (HU window) or mr "
                               "(percentiles)")
        modality = "rgb" if grid.array.ndim == 3 else "grey"
    if modality == "ct":
        level, width = config.hu_window
        if volume:  # once per volume, then sliced
            return [p[None] for p in slices(Grid(hu_window(grid.array, level, width), grid.spacing), config.axis)[0]]
        return [hu_window(p, level, width)[None] for p in parts]
    if modality == "mr":
        low, high = config.mr_percentiles
        whole = percentile_scale(grid.array, low, high)
        return [p for p in _same_slices(whole, grid, config)]
    if modality == "rgb" and grid.array.ndim == 3 and not volume:
        return [(parts[0].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)]
    if grid.bits == 16 or volume:  # grey 16-bit or a volume: min-max over the file
        lo, hi = float(grid.array.min()), float(grid.array.max())
        span = hi - lo if hi > lo else 1.0
        return [((p.astype(np.float32) - lo) / span * 2 - 1)[None] for p in parts]
    if grid.array.ndim == 3:
        raise DatasetError(f"{path}: a colour picture with modality '{modality}'; use modality=rgb")
    return [(parts[0].astype(np.float32) / 127.5 - 1.0)[None]]


def _same_slices(scaled: np.ndarray, grid: Grid, config: FolderConfig) -> list[np.ndarray]:
    return [p[None] for p in slices(Grid(scaled, grid.spacing), config.axis)[0]]


__all__ = ["load_folder"]
