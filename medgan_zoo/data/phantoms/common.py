"""Drawing helpers shared by the phantoms (numpy; coordinates in millimetres or unit squares)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..build import make_dataset
from ..configs import PhantomConfig
from ..slices import SliceArrays, SliceDataset

SUPERSAMPLE = 2  # images are drawn at twice the resolution and box-averaged: partial-volume edges


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """An independent generator for one (dataset seed, phantom, subject, slice...) tuple."""
    return np.random.default_rng([seed, *keys])


def grid(resolution: int, extent: float, supersample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (y, x) of a square ``extent`` wide, centred on 0."""
    n = resolution * supersample
    centres = ((np.arange(n) + 0.5) / n * extent - extent / 2).astype(np.float32)
    return np.meshgrid(centres, centres, indexing="ij")


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-scale noise that varies over about ``size / cells`` pixels."""
    coarse = rng.standard_normal((cells + 1, cells + 1))
    positions = np.linspace(0, cells, size)
    lower = np.minimum(positions.astype(int), cells - 1)
    frac = positions - lower
    weights = np.zeros((size, cells + 1))
    smooth = 3 * frac**2 - 2 * frac**3  # smoothstep: no visible grid creases
    weights[np.arange(size), lower] = 1 - smooth
    weights[np.arange(size), lower + 1] = smooth
    return weights @ coarse @ weights.T


def ellipse(y: np.ndarray, x: np.ndarray, cy: float, cx: float, ry: float, rx: float,
            angle: float = 0.0) -> np.ndarray:
    """Boolean inside-mask of a rotated ellipse on a :func:`grid` (evaluated in its bounding box)."""
    out = np.zeros(y.shape, dtype=bool)
    reach = max(ry, rx)
    r0, r1 = np.searchsorted(y[:, 0], [cy - reach, cy + reach])
    c0, c1 = np.searchsorted(x[0, :], [cx - reach, cx + reach])
    if r0 >= r1 or c0 >= c1:
        return out
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = y[r0:r1, c0:c1] - cy, x[r0:r1, c0:c1] - cx
    u, v = dx * c + dy * s, -dx * s + dy * c
    out[r0:r1, c0:c1] = (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    return out


def downsample(image: np.ndarray, factor: int = SUPERSAMPLE) -> np.ndarray:
    """Box-average the last two axes by ``factor``."""
    *lead, h, w = image.shape
    return image.reshape(*lead, h // factor, factor, w // factor, factor).mean(axis=(-3, -1))


def centre_labels(labels: np.ndarray, factor: int = SUPERSAMPLE) -> np.ndarray:
    """Labels of a supersampled grid at the output pixels (one sub-pixel per block)."""
    return labels[factor // 2::factor, factor // 2::factor]


@dataclass(frozen=True)
class SliceKey:
    subject: str
    number: int  # subject number, part of the seed
    position: tuple[int, ...]  # e.g. (frame, z) or (z,)
    volume: str | None = None  # the scored volume when it is not the whole subject (a cardiac phase)


class Phantom(ABC):
    """A deterministic generator of one data set's slices."""

    name: str
    label_map: dict[int, str]
    channels: int

    def __init__(self, config: PhantomConfig):
        self.config = config

    @abstractmethod
    def keys(self) -> list[SliceKey]:
        """Every slice of the configured split, in order."""

    @abstractmethod
    def render(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        """One slice: image float32 [C, R, R] in [-1, 1] and mask uint8 [R, R]."""

    def group(self, key: SliceKey) -> str | None:
        """The class of the slice's subject (None: this phantom has no classes)."""
        return None

    def group_names(self) -> list[str] | None:
        """The phantom's classes in order, when its slices carry one."""
        return None

    def build(self) -> SliceArrays:
        keys = self.keys()
        images = np.empty((len(keys), self.channels, self.config.resolution, self.config.resolution),
                          dtype=np.float32)
        masks = np.empty((len(keys), self.config.resolution, self.config.resolution), dtype=np.uint8)
        from ...progress import Progress

        # rendering a whole split takes a while at 128 px and more; it is cached afterwards
        with Progress(len(keys), f"building {self.name} ({self.config.split})", enabled=len(keys) >= 500) as bar:
            for i, key in enumerate(keys):
                images[i], masks[i] = self.render(key)
                bar.update(i + 1)
        groups = [self.group(k) for k in keys] if self.group_names() else None
        return SliceArrays(images, masks, [k.subject for k in keys], [k.volume or k.subject for k in keys], groups)

    def dataset(self) -> SliceDataset:
        return make_dataset(self.name, self.config, self.label_map, self.channels, [], self.build,
                            info={"phantom": True}, group_names=self.group_names())

