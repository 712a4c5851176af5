"""Intensity normalisation and spacing-aware resampling of 2D slices, shared by every dataset."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def percentile_scale(volume: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map the ``low``/``high`` percentiles of ``volume`` to -1/1 and clip (MRI)."""
    lo, hi = (float(v) for v in np.percentile(volume, [low, high]))
    if hi <= lo:
        return np.full(volume.shape, -1.0, dtype=np.float32)
    scaled = (volume.astype(np.float32) - np.float32(lo)) * np.float32(2.0 / (hi - lo)) - 1.0
    return np.clip(scaled, -1.0, 1.0).astype(np.float32, copy=False)


def hu_window(volume: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map the CT window [level - width/2, level + width/2] (HU) to [-1, 1] and clip."""
    low = np.float32(level - width / 2.0)
    scaled = (volume.astype(np.float32) - low) * np.float32(2.0 / width) - 1.0
    return np.clip(scaled, -1.0, 1.0).astype(np.float32, copy=False)


def resample_square(
    image: np.ndarray,
    mask: np.ndarray,
    spacing: tuple[float, float],
    resolution: int,
    field_of_view_mm: float | None,
    background: float | np.ndarray = -1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``image`` [C,H,W] and ``mask`` [H,W] to isotropic pixels and a centred square.

    The output pixel size is ``field_of_view_mm / resolution``, or when that is None, the size at
    which the longer physical side fills ``resolution``. Images are interpolated bilinearly (with
    antialiasing when shrinking), masks by nearest neighbour; the square is centre-cropped or padded
    with ``background`` (per channel when an array) and label 0.
    """
    images, masks = resample_batch(image[None], mask[None], spacing, resolution, field_of_view_mm, background)
    return images[0], masks[0]


def resample_batch(
    images: np.ndarray,
    masks: np.ndarray,
    spacing: tuple[float, float],
    resolution: int,
    field_of_view_mm: float | None,
    background: float | np.ndarray = -1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resample_square` of slices that share a shape and spacing ([N,C,H,W] and [N,H,W]), in
    one interpolation call (a volume's slices): the same numbers, without a call per slice."""
    count, channels, height, width = images.shape
    extent = (height * spacing[0], width * spacing[1])
    pixel = (field_of_view_mm or max(extent)) / resolution
    size = (max(1, round(extent[0] / pixel)), max(1, round(extent[1] / pixel)))
    img = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    msk = torch.from_numpy(np.ascontiguousarray(masks, dtype=np.uint8))[:, None]
    if size != (height, width):
        shrinking = size[0] < height or size[1] < width
        img = F.interpolate(img, size=size, mode="bilinear", align_corners=False, antialias=shrinking)
        msk = F.interpolate(msk.float(), size=size, mode="nearest-exact").to(torch.uint8)
    out_img = np.empty((count, channels, resolution, resolution), dtype=np.float32)
    out_img[:] = np.asarray(background, dtype=np.float32).reshape(1, -1, 1, 1)
    out_msk = np.zeros((count, resolution, resolution), dtype=np.uint8)
    (sy, dy, ny), (sx, dx, nx) = _centre(size[0], resolution), _centre(size[1], resolution)
    out_img[:, :, dy:dy + ny, dx:dx + nx] = img[:, :, sy:sy + ny, sx:sx + nx].numpy()
    out_msk[:, dy:dy + ny, dx:dx + nx] = msk[:, 0, sy:sy + ny, sx:sx + nx].numpy()
    np.clip(out_img, -1.0, 1.0, out=out_img)  # interpolation may overshoot by rounding
    return out_img, out_msk


def _centre(length: int, target: int) -> tuple[int, int, int]:
    """(source start, destination start, count) of a centred crop or pad along one axis."""
    if length >= target:
        return (length - target) // 2, 0, target
    return 0, (target - length) // 2, length
