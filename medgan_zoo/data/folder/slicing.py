"""From a user's files to 2-D slices: every image channel and its mask read, checked against each
other, sliced along the axis, scaled by modality and resampled square. Shared by the ``folder`` and
``nnunet`` data sets (what differs between them is how files are found: :class:`Reading`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..build import with_progress
from ..preprocessing import hu_window, percentile_scale, resample_batch
from ..slices import DatasetError, SliceArrays
from .config import FilesConfig
from .discover import Item
from .labels import label_map, mask_values
from .readers import Grid, header_shape, read, slice_count, slices, split_channels


@dataclass(frozen=True)
class Reading:
    """What a data set knows about its files beyond the config: label names by value (None: the
    values found are named), colour masks, the file the names come from (for errors), per-file
    modalities of volumes (None: ``config.modality`` for all), whether a 4-D file's last axis holds
    channels, and the channel count every item must give (None: any, but one for all)."""

    dataset: str = "folder"
    names: dict[int, str] | None = None
    colours: dict[tuple[int, int, int], int] = field(default_factory=dict)
    label_source: Path | None = None
    masks: bool = True
    modalities: tuple[str, ...] | None = None
    four_d: bool = False
    channels: int | None = None
    binary_255: bool = True  # 0/255 masks read as 0/1 (a folder's convenience; nnU-Net takes 255 as it is)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux and macOS; None where the system does not say)."""
    import os

    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(items: list[Item], config: FilesConfig, dataset: str, channels: int = 3) -> None:
    """Refuse a split that would not fit, before reading it (slice counts from the headers)."""
    available = available_memory()
    if available is None:
        return
    count = sum(slice_count(item.image, config.axis) for item in items)
    needed = count * config.resolution ** 2 * (max(channels, 3) * 4 + 1)  # float32 channels and a uint8 mask
    if needed > config.max_memory_fraction * available:
        size = f"{config.resolution}x{config.resolution}"
        raise DatasetError(f"{dataset}: the {config.split} split would take about {needed / 1e9:.1f} GB ({count} "
                           f"slices at {size}), more than {config.max_memory_fraction:.0%} of the "
                           f"{available / 1e9:.1f} GB available: lower the resolution, keep fewer slices "
                           "(keep_empty=false) or fewer subjects")


def read_item(item: Item, how: Reading) -> list[Grid]:
    """The item's image as one grid per file channel (an RGB picture stays one grid of 3)."""
    grids: list[Grid] = []
    for path in (item.image, *item.channels):
        grids.extend(split_channels(read(path, "image", how.four_d)))
    return grids


def channel_count(grids: list[Grid]) -> int:
    return sum(3 if g.array.ndim == 3 and len(g.spacing) == 2 else 1 for g in grids)


def build_arrays(root: Path, items: list[Item], config: FilesConfig, how: Reading, with_groups: bool,
                 every: list[Item]) -> SliceArrays:
    """The slices of ``items`` (one split); ``every``: all items, whose headers are checked too."""
    check_memory(items, config, how.dataset, how.channels or 3)  # a cache miss only
    check_headers([item for item in every if item not in items])
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    spacings: list[tuple[float, float]] = []
    subjects: list[str] = []
    volumes: list[str] = []
    groups: list[str | None] = []
    found: set[int] = set()
    where: dict[int, Path] = {}
    channels: set[int] = set()
    for item in with_progress(items, f"reading {how.dataset}"):
        grids = read_item(item, how)
        mask_grid = read(item.mask, "mask") if item.mask is not None else None
        check_item(grids, mask_grid, item, config.tolerance, how)
        picture_slices, spacing = slices(grids[0], config.axis)
        mask_slices = (slices(mask_grid, config.axis)[0] if mask_grid is not None
                       else [np.zeros(s.shape[:2], dtype=np.uint8) for s in picture_slices])
        scaled = [np.concatenate(parts, axis=0) for parts in zip(*(
            intensities(grid, slices(grid, config.axis)[0] if k else picture_slices, item.image, config,
                        how.modalities[k] if how.modalities else None)
            for k, grid in enumerate(grids)), strict=True)]
        volume = len(grids[0].spacing) == 3
        for image, mask in zip(scaled, mask_slices, strict=True):
            values = mask_values(mask, item.mask, how.colours, how.names, how.binary_255) if item.mask is not None \
                else mask
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
            volumes.append(str(item.image.relative_to(root)) if volume else item.subject)
    if not images:
        raise DatasetError(f"{how.dataset}: no slices left in {root} (keep_empty=false dropped every slice)")
    if len(channels) > 1:
        raise DatasetError(f"{how.dataset}: images of {root} mix {sorted(channels)} channels (grey and RGB); convert "
                           "them to one")
    if how.masks:
        mapping, values = label_map(found, how.names, where, how.label_source)
    else:
        mapping, values = {0: "background"}, [0]
    lookup = np.full(max(values) + 1, 0, dtype=np.uint8)
    lookup[values] = np.arange(len(values), dtype=np.uint8)
    out_images = np.empty((len(images), images[0].shape[0], config.resolution, config.resolution), np.float32)
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
             "label_values": values, "masks": how.masks}
    return SliceArrays(out_images, out_masks, subjects, volumes, groups if with_groups else None, extra)


def check_item(grids: list[Grid], mask: Grid | None, item: Item, tolerance: float, how: Reading) -> None:
    """Every channel on its first channel's grid, the mask on it too, and the channel count."""
    files = (item.image, *item.channels)
    if how.channels is not None and (count := channel_count(grids)) != how.channels:
        raise DatasetError(f"{item.image}: {count} image channel(s) where {how.label_source or 'the data set'} "
                           f"lists {how.channels}")
    for k, grid in enumerate(grids[1:], start=1):
        agree(grids[0], grid, files[0], files[min(k, len(files) - 1)], tolerance, "channel")
    if mask is not None and item.mask is not None:
        agree(grids[0], mask, item.image, item.mask, tolerance, "mask")


def check_headers(items: list[Item]) -> None:
    """The other splits' pairs, by their headers: a mask whose shape differs from its image is found
    now, not when that split is first read (the cache key covers every split's files)."""
    for item in items:
        if item.mask is None:
            continue
        image, mask = header_shape(item.image), header_shape(item.mask)
        if image and mask and image[:3] != mask[:3] and not (len(image) == 1 or len(mask) == 1):
            raise DatasetError(f"{item.mask}: mask shape {mask} differs from its image {item.image} {image} "
                               f"(in the {item.split} split)")
        for channel in item.channels:  # every channel file is read too: a broken one is found now
            other = header_shape(channel)
            if image and other and image[:3] != other[:3]:
                raise DatasetError(f"{channel}: channel shape {other} differs from {item.image} {image} "
                                   f"(in the {item.split} split)")


def agree(image: Grid, other: Grid, image_path: Path, path: Path, tolerance: float, what: str = "mask") -> None:
    """``other`` (a mask, or another channel) on ``image``'s grid: shape, spacing, origin, direction."""
    shape_i = image.array.shape[:3] if image.array.ndim == 3 and len(image.spacing) == 3 else image.array.shape[:2]
    shape_m = other.array.shape[:3] if other.array.ndim == 3 and len(other.spacing) == 3 else other.array.shape[:2]
    if shape_i != shape_m:
        raise DatasetError(f"{path}: {what} shape {shape_m} differs from its image {image_path} {shape_i}")
    if len(image.spacing) == 3:
        if not np.allclose(image.spacing, other.spacing, rtol=tolerance):
            raise DatasetError(f"{path}: spacing {tuple(round(s, 4) for s in other.spacing)} differs from its "
                               f"image {image_path} {tuple(round(s, 4) for s in image.spacing)}")
        scale = max(max(image.spacing), 1.0)
        if not np.allclose(image.origin, other.origin, atol=tolerance * scale * 10):
            raise DatasetError(f"{path}: origin differs from its image {image_path}")
        if not np.allclose(image.direction, other.direction, atol=tolerance * 10):
            raise DatasetError(f"{path}: orientation (direction) differs from its image {image_path}; the {what} "
                               "would be flipped or rotated against it")


def intensities(grid: Grid, parts: list[np.ndarray], path: Path, config: FilesConfig,
                modality: str | None = None) -> list[np.ndarray]:
    """Each slice [C, H, W] in [-1, 1] by ``config.modality`` (``modality``: this file's own, used
    when the config says auto)."""
    volume = len(grid.spacing) == 3
    chosen = config.modality
    if chosen == "auto" and modality is not None:
        chosen = modality
    if chosen == "auto" and grid.modality in ("CT", "MR"):  # DICOM says
        chosen = grid.modality.lower()
    if chosen == "auto":
        if volume:
            raise DatasetError(f"{path}: modality 'auto' cannot tell CT from MR here (NIfTI, MetaImage and NRRD "
                               "have no modality field; DICOM's says "
                               f"{grid.modality or 'nothing'}): --set dataset.modality=ct (HU window) or mr "
                               "(percentiles)")
        chosen = "rgb" if grid.array.ndim == 3 else "grey"
    if chosen == "ct":
        level, width = config.hu_window
        if volume:  # once per volume, then sliced
            return [p[None] for p in slices(Grid(hu_window(grid.array, level, width), grid.spacing), config.axis)[0]]
        return [hu_window(p, level, width)[None] for p in parts]
    if chosen == "mr":
        low, high = config.mr_percentiles
        whole = percentile_scale(grid.array, low, high)
        return [p[None] for p in slices(Grid(whole, grid.spacing), config.axis)[0]]
    if chosen == "rgb" and grid.array.ndim == 3 and not volume:
        return [(parts[0].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)]
    if grid.bits == 16 or volume:  # grey 16-bit or a volume: min-max over the file
        lo, hi = float(grid.array.min()), float(grid.array.max())
        span = hi - lo if hi > lo else 1.0
        return [((p.astype(np.float32) - lo) / span * 2 - 1)[None] for p in parts]
    if grid.array.ndim == 3:
        raise DatasetError(f"{path}: a colour picture with modality '{chosen}'; use modality=rgb")
    return [(parts[0].astype(np.float32) / 127.5 - 1.0)[None]]


__all__ = ["Reading", "available_memory", "build_arrays", "check_item", "intensities", "read_item"]
