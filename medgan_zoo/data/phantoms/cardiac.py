"""Short-axis cine MRI phantom, the twin of ACDC: labels 0 background, 1 RV, 2 MYO, 3 LV.

Per exam: a heart with an LV blood pool, a closed myocardial ring whose thickness varies around it,
an RV crescent against the septum on the image's left; slices run base to apex (LV and RV shrink,
the RV vanishes near the apex); the ES frame has the LV area of the ED frame times (1 - EF), with EF
drawn in 35-70%, and a thicker wall (myocardial area is conserved). Around it: chest wall, fat,
lungs, the descending aorta and the spine; then a smooth coil bias field and Rician noise. Raw
intensities are scaled like the real loader's (0.5-99.5 percentile clip to [-1, 1]).

With ``pathology=true`` exam n belongs to ACDC group (n - 1) mod 5, its heart drawn as above and
then changed by the group's signature (from a separate random stream, so the healthy draws stay):
``dcm`` a dilated LV (radius x1.35) with a thin wall (x0.6) and EF 10-30%; ``hcm`` a thick wall
(x1.8) around a small cavity (radius x0.7) and EF 60-80%; ``minf`` a sector of 60-100 degrees
thinned to 35% with EF 25-45%; ``rv`` an enlarged RV (x1.5 tall, x2 wide) with RV EF 15-35%;
``nor`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..configs import AcdcPhantomConfig
from ..labels import ACDC_GROUPS, ACDC_LABELS
from ..preprocessing import percentile_scale
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

FIELD_OF_VIEW_MM = 256.0  # the acdc loader's default output field of view
_TAG = 1
_PATHOLOGY_TAG = 7  # the stream of the group signatures, apart from the healthy heart's draws
GROUPS = list(ACDC_GROUPS)


@dataclass(frozen=True)
class Heart:
    slices: int
    cy: float
    cx: float
    lv_radius: float  # ED, at the base, mm
    ejection_fraction: float
    wall: float  # ED mean thickness, mm
    wall_harmonics: tuple[float, float, float, float]  # a1, phase1, a2, phase2
    ellipticity: float
    ellipse_angle: float
    rv_width: float
    rv_height: float
    rv_ejection_fraction: float
    rv_shift: float
    body: tuple[float, float]
    noise: float
    bias: tuple[float, float, float]
    infarct: tuple[float, float, float] | None = None  # centre angle, half-width (rad), wall fraction left


def _heart(rng: np.random.Generator) -> Heart:
    return Heart(
        slices=int(rng.integers(8, 12)),
        cy=rng.uniform(-10, 10), cx=rng.uniform(-6, 12),
        lv_radius=rng.uniform(21, 29),
        ejection_fraction=rng.uniform(0.35, 0.70),
        wall=rng.uniform(7, 11),
        wall_harmonics=(rng.uniform(0, 0.25), rng.uniform(0, 2 * np.pi),
                        rng.uniform(0, 0.15), rng.uniform(0, 2 * np.pi)),
        ellipticity=rng.uniform(0, 0.08), ellipse_angle=rng.uniform(0, np.pi),
        rv_width=rng.uniform(0.55, 0.85), rv_height=rng.uniform(1.25, 1.6),
        rv_ejection_fraction=rng.uniform(0.35, 0.6),
        rv_shift=rng.uniform(-6, 6),
        body=(rng.uniform(100, 120), rng.uniform(140, 170)),
        noise=rng.uniform(0.02, 0.045),
        bias=(rng.uniform(-0.25, 0.25), rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.3)),
    )


def group_of(number: int) -> str:
    """The ACDC group of phantom exam ``number`` (1-based) with ``pathology=true``: evenly by turns."""
    return GROUPS[(number - 1) % len(GROUPS)]


def _with_pathology(heart: Heart, group: str, rng: np.random.Generator) -> Heart:
    if group == "dcm":
        return replace(heart, lv_radius=heart.lv_radius * 1.35, wall=heart.wall * 0.6,
                       ejection_fraction=rng.uniform(0.10, 0.30))
    if group == "hcm":
        return replace(heart, lv_radius=heart.lv_radius * 0.7, wall=heart.wall * 1.8,
                       ejection_fraction=rng.uniform(0.60, 0.80))
    if group == "minf":
        return replace(heart, infarct=(rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(30, 50)), 0.35),
                       ejection_fraction=rng.uniform(0.25, 0.45))
    if group == "rv":
        return replace(heart, rv_height=heart.rv_height * 1.5, rv_width=heart.rv_width * 2.0,
                       rv_ejection_fraction=rng.uniform(0.15, 0.35))
    return heart


def _labels(heart: Heart, y: np.ndarray, x: np.ndarray, frame: str, z: int) -> np.ndarray:
    s = z / max(heart.slices - 1, 1)  # 0 at the base, 1 at the apex
    phase = 1.0 if frame == "ed" else np.sqrt(1.0 - heart.ejection_fraction)
    dy, dx = y - heart.cy, x - heart.cx
    r = np.hypot(dy, dx)
    theta = np.arctan2(dy, dx)
    shape = 1 + heart.ellipticity * np.cos(2 * (theta - heart.ellipse_angle))
    taper = np.sqrt(max(1.0 - 0.82 * s**2, 0.0))
    r_in_ed = heart.lv_radius * taper * shape
    r_in = r_in_ed * phase
    a1, p1, a2, p2 = heart.wall_harmonics
    thickness = heart.wall * (1 + a1 * np.cos(theta - p1) + a2 * np.cos(2 * theta - p2))
    if heart.infarct is not None:  # a thinned sector, smooth at its edges
        centre, half, left = heart.infarct
        d = np.abs(np.angle(np.exp(1j * (theta - centre))))
        window = np.where(d < half, 0.5 * (1 + np.cos(np.pi * d / half)), 0.0)
        thickness = thickness * (1 - (1 - left) * np.clip(window * 1.6, 0, 1))
    r_out_ed = r_in_ed + thickness
    r_out = np.sqrt(r_in**2 + r_out_ed**2 - r_in_ed**2)  # ring area conserved through the cycle

    labels = np.zeros(y.shape, dtype=np.uint8)
    rv_scale = (1.0 - 1.15 * s) * (1.0 if frame == "ed" else np.sqrt(1 - heart.rv_ejection_fraction))
    if rv_scale > 0.12:
        outer = heart.lv_radius * taper + heart.wall
        rv = ellipse(y, x, heart.cy + heart.rv_shift, heart.cx - outer * 0.55,
                     outer * heart.rv_height * rv_scale, outer * (0.45 + heart.rv_width * rv_scale))
        labels[rv] = 1
    labels[r <= r_out] = 2
    labels[r <= r_in] = 3
    return labels


class CardiacPhantom(Phantom):
    name = "acdc-phantom"
    label_map = ACDC_LABELS
    channels = 1
    config: AcdcPhantomConfig

    def _subjects(self) -> list[tuple[int, str]]:
        c = self.config
        train = range(1, c.train_subjects + 1)
        test = range(c.train_subjects + 1, c.train_subjects + c.test_subjects + 1)
        numbers = {"train": list(train), "test": list(test), "all": [*train, *test]}[c.split]
        return [(n, f"patient{n:03d}") for n in numbers]

    def keys(self) -> list[SliceKey]:
        frames = ["ed", "es"] if self.config.frames == "both" else [self.config.frames]
        keys = []
        for number, subject in self._subjects():
            heart = self._heart(number)
            for frame in frames:
                keys += [SliceKey(subject, number, (0 if frame == "ed" else 1, z), f"{subject}_{frame}")
                         for z in range(heart.slices)]
        return keys

    def _heart(self, number: int) -> Heart:
        heart = _heart(rng_for(self.config.seed, _TAG, number))
        if not self.config.pathology:
            return heart
        return _with_pathology(heart, group_of(number), rng_for(self.config.seed, _PATHOLOGY_TAG, number))

    def heart(self, key: SliceKey) -> Heart:
        return self._heart(key.number)

    def group(self, key: SliceKey) -> str | None:
        return group_of(key.number) if self.config.pathology else None

    def group_names(self) -> list[str] | None:
        return GROUPS if self.config.pathology else None

    def render_raw(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        """Magnitude image in arbitrary scanner units (before scaling) and labels."""
        heart = self.heart(key)
        frame_index, z = key.position
        frame = "ed" if frame_index == 0 else "es"
        rng = rng_for(self.config.seed, _TAG, key.number, frame_index, z)
        res = self.config.resolution
        y, x = grid(res, FIELD_OF_VIEW_MM, SUPERSAMPLE)
        labels_fine = _labels(heart, y, x, frame, z)
        n = res * SUPERSAMPLE

        by, bx = heart.body
        body = ellipse(y, x, 8, 0, by, bx)
        fat = body & ~ellipse(y, x, 8, 0, by - 9, bx - 11)
        lung_l = ellipse(y, x, 0, -62 - heart.cx * 0.2, 58, 34, 0.25)
        lung_r = ellipse(y, x, -4, 70, 55, 36, -0.3)
        aorta = ellipse(y, x, 52, 22, 11, 11)
        spine = ellipse(y, x, 80, 4, 17, 19)

        signal = np.zeros((n, n))
        signal[body] = 0.42
        signal[fat] = 0.78
        signal[lung_l | lung_r] = 0.06
        signal[aorta] = 0.85
        signal[spine] = 0.3
        texture = smooth_noise(rng, n, 18)
        signal *= 1 + 0.07 * texture
        signal[labels_fine == 1] = 0.88 + 0.03 * texture[labels_fine == 1]
        signal[labels_fine == 2] = 0.24 + 0.02 * texture[labels_fine == 2]
        signal[labels_fine == 3] = 0.95 + 0.03 * texture[labels_fine == 3]
        # the papillary muscles: dark dots inside the LV pool
        if z < heart.slices - 2:
            r_pap = 2.2 * (1 if frame == "ed" else 1.3)
            for angle in (2.3, 3.8):
                d = heart.lv_radius * 0.55 * (1 if frame == "ed" else np.sqrt(1 - heart.ejection_fraction))
                pap = ellipse(y, x, heart.cy + d * np.sin(angle), heart.cx + d * np.cos(angle), r_pap, r_pap)
                signal[pap & (labels_fine == 3)] = 0.3

        image = downsample(signal)
        yy, xx = grid(res, 2.0)
        a, b, c = heart.bias
        bias = 1 + a * xx + b * yy + c * 0.3 * smooth_noise(rng, res, 3)
        image = image * np.clip(bias, 0.55, 1.5)
        sigma = heart.noise
        real = image + rng.normal(0, sigma, image.shape)
        imag = rng.normal(0, sigma, image.shape)
        magnitude = np.sqrt(real**2 + imag**2)  # Rician
        return (magnitude * 1000).astype(np.float32), centre_labels(labels_fine)

    def render(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        raw, labels = self.render_raw(key)
        return percentile_scale(raw, 0.5, 99.5)[None], labels


def load_acdc_phantom(config: AcdcPhantomConfig):
    return CardiacPhantom(config).dataset()
