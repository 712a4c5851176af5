"""Abdominal contrast CT phantom, the twin of SLiver07: HU values, label 1 = liver (tumours included).

Per volume: a body outline with subcutaneous fat and an abdominal wall, the spine (cortical and
cancellous bone, canal), ribs in the upper slices, aorta and vena cava, kidneys lower down, stomach
gas, and a liver on the image's left (the patient's right) made of a right and a left lobe whose
cross-sections grow and shrink along z, holding 1-3 hypodense tumours. About 5% of all pixels are
liver, as in the paper. Values are HU plus scanner noise; slices are windowed like the real loader's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..configs import Sliver07Config, Sliver07PhantomConfig
from ..labels import SLIVER07_LABELS
from ..preprocessing import hu_window
from .common import (
    SUPERSAMPLE,
    Phantom,
    SliceKey,
    centre_labels,
    downsample,
    ellipse,
    grid,
    rng_for,
    smooth_noise,
)

FIELD_OF_VIEW_MM = 380.0
_TAG = 2
_WINDOW = Sliver07Config.model_fields["hu_level"].default, Sliver07Config.model_fields["hu_width"].default


@dataclass(frozen=True)
class Abdomen:
    slices: int
    body: tuple[float, float]
    fat: float
    liver_top: float  # fractions of the volume's z range (0 = top slice)
    liver_bottom: float
    right_lobe: tuple[float, float, float, float, float]  # cy, cx, ry, rx, angle
    left_lobe: tuple[float, float, float, float, float]
    liver_hu: float
    tumours: tuple[tuple[float, float, float, float, float], ...]  # z, y, x, radius (mm), HU
    noise: float


def _abdomen(rng: np.random.Generator, mean_slices: int) -> Abdomen:
    body = (rng.uniform(108, 128), rng.uniform(145, 172))
    top = rng.uniform(0.03, 0.1)
    bottom = rng.uniform(0.6, 0.72)
    tumours = []
    for _ in range(int(rng.integers(1, 4))):
        tumours.append((rng.uniform(top + 0.1, bottom - 0.12), rng.uniform(-35, 25),
                        rng.uniform(-105, -45), rng.uniform(7, 22), rng.uniform(15, 35)))
    return Abdomen(
        slices=max(8, int(round(mean_slices * rng.uniform(0.8, 1.2)))),
        body=body, fat=rng.uniform(10, 24), liver_top=top, liver_bottom=bottom,
        right_lobe=(rng.uniform(-15, 0), rng.uniform(-74, -62), rng.uniform(92, 106),
                    rng.uniform(68, 78), rng.uniform(-0.3, 0.1)),
        left_lobe=(rng.uniform(-50, -38), rng.uniform(-22, -5), rng.uniform(28, 38),
                   rng.uniform(50, 62), rng.uniform(-0.25, 0.05)),
        liver_hu=rng.uniform(55, 75), tumours=tuple(tumours), noise=rng.uniform(8, 16),
    )


class AbdomenPhantom(Phantom):
    name = "sliver07-phantom"
    label_map = SLIVER07_LABELS
    channels = 1
    config: Sliver07PhantomConfig

    def abdomen(self, number: int) -> Abdomen:
        return _abdomen(rng_for(self.config.seed, _TAG, number), self.config.slices_per_volume)

    def keys(self) -> list[SliceKey]:
        c = self.config
        keys = []
        for number in range(1, c.volumes + 1):
            test = number in c.test_volumes
            if c.split != "all" and (c.split == "test") != test:
                continue
            slices = self.abdomen(number).slices
            keys += [SliceKey(f"liver-{number:02d}", number, (z,)) for z in range(slices)]
        return keys

    def render_hu(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        """The slice in HU and its liver labels."""
        a = self.abdomen(key.number)
        (z,) = key.position
        s = z / max(a.slices - 1, 1)
        rng = rng_for(self.config.seed, _TAG, key.number, z)
        res = self.config.resolution
        n = res * SUPERSAMPLE
        y, x = grid(res, FIELD_OF_VIEW_MM, SUPERSAMPLE)
        texture = smooth_noise(rng, n, 24)

        by, bx = a.body[0] * (0.95 + 0.08 * s), a.body[1] * (0.93 + 0.1 * s)
        hu = np.full((n, n), -1000.0)
        body = ellipse(y, x, 0, 0, by, bx)
        hu[body] = -100.0 + 15 * texture[body]  # subcutaneous fat
        inner = ellipse(y, x, 0, 0, by - a.fat, bx - a.fat)
        hu[inner] = 45.0  # abdominal wall muscle
        cavity = ellipse(y, x, 2, 0, by - a.fat - 9, bx - a.fat - 10)
        hu[cavity] = 5 + 35 * texture[cavity]  # bowel, mesenteric fat, vessels: mixed
        # spine: vertebral body, canal, posterior elements
        spine_y = by - a.fat - 38
        hu[ellipse(y, x, spine_y - 6, 0, 24, 26)] = 60  # psoas and paraspinal muscle
        hu[ellipse(y, x, spine_y, 0, 17, 19)] = 900  # cortical shell
        hu[ellipse(y, x, spine_y, 0, 14, 16)] = 230 + 40 * texture[ellipse(y, x, spine_y, 0, 14, 16)]
        hu[ellipse(y, x, spine_y + 26, 0, 7, 7)] = 15  # spinal canal
        hu[ellipse(y, x, spine_y + 38, 0, 8, 5)] = 650
        # great vessels
        hu[ellipse(y, x, spine_y - 26, 16, 11, 11)] = 190  # aorta (contrast)
        hu[ellipse(y, x, spine_y - 30, -22, 12, 10)] = 120  # inferior vena cava
        # kidneys in the lower part, stomach gas in the upper left
        if s > 0.45:
            for side in (-1, 1):
                hu[ellipse(y, x, spine_y - 5, side * 62, 30, 20, side * 0.4)] = 160
        if s < 0.4:
            hu[ellipse(y, x, -35, 70, 28 * (1 - s), 38 * (1 - s))] = -900 + 40 * texture[0, 0]
        # ribs around the lateral walls, appearing and vanishing along z, in the upper 65%
        if s < 0.65:
            for i, degrees in enumerate((-160, -135, -110, -70, -45, -20, 20, 45, 135, 160)):
                if np.sin(10 * np.pi * s + 1.7 * i) > -0.3:
                    angle = np.deg2rad(degrees)
                    cy = (by - a.fat - 5) * np.sin(angle)
                    cx = (bx - a.fat - 5) * np.cos(angle)
                    hu[ellipse(y, x, cy, cx, 5, 9, angle + np.pi / 2)] = 650

        liver = np.zeros((n, n), dtype=bool)
        if a.liver_top <= s <= a.liver_bottom:
            t = (s - a.liver_top) / (a.liver_bottom - a.liver_top)
            right = np.sin(np.pi * t) ** 0.6 * (1.0 - 0.15 * t)
            left = max(0.0, np.sin(np.pi * min(t * 1.6, 1.0))) ** 0.8 * (1 - t) ** 0.5
            cy, cx, ry, rx, ang = a.right_lobe
            if right > 0.05:
                liver |= ellipse(y, x, cy, cx, ry * right, rx * right, ang)
            cy, cx, ry, rx, ang = a.left_lobe
            if left > 0.05:
                liver |= ellipse(y, x, cy, cx, ry * left, rx * left, ang)
            liver &= cavity
            hu[liver] = a.liver_hu + 8 * texture[liver]
            for tz, ty, tx, radius, tumour_hu in a.tumours:
                dz = (s - tz) * a.slices * 1.5  # mm, with 1.5 mm slices
                r2 = radius**2 - dz**2
                if r2 > 0:
                    lesion = liver & ellipse(y, x, ty, tx, np.sqrt(r2), np.sqrt(r2))
                    hu[lesion] = tumour_hu + 6 * texture[lesion]

        image = downsample(hu) + rng.normal(0, a.noise, (res, res))
        return image.astype(np.float32), centre_labels(liver.astype(np.uint8))

    def render(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        hu, labels = self.render_hu(key)
        return hu_window(hu, *_WINDOW)[None], labels


def load_sliver07_phantom(config: Sliver07PhantomConfig):
    return AbdomenPhantom(config).dataset()
