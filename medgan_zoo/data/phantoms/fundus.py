"""Colour fundus photograph phantom, the twin of IDRiD: RGB, label 1 = optic disc.

Per image: a circular camera field of view cut at top and bottom as IDRiD's 3:2 frames are (black
outside), an orange-red retina with choroidal texture and illumination fall-off towards the rim, a
bright yellowish optic disc with a paler cup on the nasal side (left or right eye), a darker macula
about 2.5 disc diameters temporal to it, and a vessel tree: four arcades leaving the disc and
branching, thinner at each branch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..configs import IdridPhantomConfig
from ..labels import IDRID_LABELS
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

_TAG = 3
_RETINA = np.array([0.78, 0.36, 0.13])
_DISC = np.array([0.98, 0.86, 0.55])
_VESSEL = np.array([0.50, 0.10, 0.05])


@dataclass(frozen=True)
class Eye:
    side: int  # +1: disc on the right of the image, -1: on the left
    disc: tuple[float, float, float, float]  # cy, cx, ry, rx in units of the FOV radius
    macula_offset: float
    falloff: float
    gain: tuple[float, float, float]


def _eye(rng: np.random.Generator) -> Eye:
    side = 1 if rng.random() < 0.5 else -1
    radius = rng.uniform(0.13, 0.16)
    return Eye(
        side=side,
        disc=(rng.uniform(-0.08, 0.08), side * rng.uniform(0.5, 0.6), radius * rng.uniform(1.0, 1.12), radius),
        macula_offset=rng.uniform(2.3, 2.7),
        falloff=rng.uniform(0.35, 0.55),
        gain=tuple(rng.uniform(0.88, 1.1, 3)),
    )


def _vessels(rng: np.random.Generator, eye: Eye) -> list[tuple[float, float, float, float, float]]:
    """Segments (y0, x0, y1, x1, width) of a branching tree grown from the disc."""
    cy, cx, ry, _ = eye.disc
    segments = []
    # (initial direction, curvature sign): temporal arcades bend around the macula
    stems = [(-np.pi / 2 - eye.side * 0.55, -eye.side), (np.pi / 2 + eye.side * 0.55, eye.side),
             (-np.pi / 2 + eye.side * 0.5, 0.0), (np.pi / 2 - eye.side * 0.5, 0.0)]
    stack = [(cy, cx, angle, bend, 0.055 if bend else 0.04, 0) for angle, bend in stems]
    while stack:
        y, x, angle, bend, width, depth = stack.pop()
        for _ in range(int(rng.integers(25, 45))):
            angle += rng.normal(0, 0.12) + 0.045 * bend
            step = 0.035
            ny, nx = y + step * np.sin(angle), x + step * np.cos(angle)
            segments.append((y, x, ny, nx, width))
            y, x = ny, nx
            if y * y + x * x > 1.05:
                break
            if depth < 3 and rng.random() < 0.09:
                child = angle + rng.choice([-1, 1]) * rng.uniform(0.5, 0.9)
                stack.append((y, x, child, bend * 0.5, width * 0.68, depth + 1))
                width *= 0.9
    return segments


def _draw_vessels(size: int, segments, extent: float) -> np.ndarray:
    """Vessel opacity in [0, 1] on a ``size`` square canvas; thin vessels are fainter."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    scale = size / extent
    for y0, x0, y1, x1, width in sorted(segments, key=lambda s: s[4]):  # thick ones drawn last
        points = [((x0 + extent / 2) * scale, (y0 + extent / 2) * scale),
                  ((x1 + extent / 2) * scale, (y1 + extent / 2) * scale)]
        shade = int(255 * min(1.0, width / 0.03))
        draw.line(points, fill=shade, width=max(1, round(width * scale)), joint="curve")
    return np.asarray(canvas, dtype=np.float64) / 255.0


class FundusPhantom(Phantom):
    name = "idrid-phantom"
    label_map = IDRID_LABELS
    channels = 3
    config: IdridPhantomConfig

    def keys(self) -> list[SliceKey]:
        c = self.config
        train = range(1, c.train_images + 1)
        test = range(c.train_images + 1, c.train_images + c.test_images + 1)
        numbers = {"train": list(train), "test": list(test), "all": [*train, *test]}[c.split]
        return [SliceKey(f"IDRiD_{n:02d}", n, ()) for n in numbers]

    def eye(self, key: SliceKey) -> Eye:
        return _eye(rng_for(self.config.seed, _TAG, key.number))

    def render(self, key: SliceKey) -> tuple[np.ndarray, np.ndarray]:
        rng = rng_for(self.config.seed, _TAG, key.number, 1)
        eye = self.eye(key)
        res = self.config.resolution
        n = res * SUPERSAMPLE
        extent = 2.0  # the FOV circle has radius 1 and fills the width, as after the loader's crop
        y, x = grid(res, extent, SUPERSAMPLE)
        r = np.hypot(y, x)
        fov = (r <= 1.0) & (np.abs(y) <= 0.83)

        texture = smooth_noise(rng, n, 40)
        light = np.clip(1.0 - eye.falloff * r**2.5, 0.2, 1.0)
        rgb = _RETINA[:, None, None] * (1 + 0.06 * texture) * light * np.array(eye.gain)[:, None, None]

        cy, cx, ry, rx = eye.disc
        macula_x = cx - eye.side * eye.macula_offset * 2 * rx
        dark = np.exp(-((y - cy * 0.5) ** 2 + (x - macula_x) ** 2) / (2 * 0.12**2))
        rgb *= 1 - 0.45 * dark

        disc = ellipse(y, x, cy, cx, ry, rx)
        d = np.sqrt(((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2)
        glow = 0.92 * np.clip((1.12 - d) / 0.3, 0, 1)  # a plateau with a soft rim
        rgb = rgb * (1 - glow) + _DISC[:, None, None] * glow
        cup_x = (x - cx + eye.side * rx * 0.15) / (rx * 0.45)
        cup = np.clip(1 - np.sqrt(((y - cy) / (ry * 0.45)) ** 2 + cup_x**2), 0, 1)
        rgb = rgb + 0.25 * cup * (1 - rgb)

        opacity = _draw_vessels(n, _vessels(rng, eye), extent)
        rgb = rgb * (1 - 0.8 * opacity) + _VESSEL[:, None, None] * light * 0.8 * opacity
        rgb = np.clip(rgb + rng.normal(0, 0.01, rgb.shape), 0, 1) * fov

        image = downsample(rgb) * 2.0 - 1.0
        return image.astype(np.float32), centre_labels(disc.astype(np.uint8))


def load_idrid_phantom(config: IdridPhantomConfig):
    return FundusPhantom(config).dataset()
