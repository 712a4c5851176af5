"""Image grids with mask overlays, for looking at a dataset (or at samples) quickly."""

from __future__ import annotations

import numpy as np
import torch

from ..channels import viewable

#: Overlay colours by label (background has none); cycles past the end.
PALETTE = np.array([[230, 57, 70], [42, 157, 143], [233, 196, 106], [69, 123, 157], [244, 162, 97],
                    [131, 56, 236]], dtype=np.float32)


def overlay_grid(images: torch.Tensor, masks: torch.Tensor, columns: int = 8, alpha: float = 0.45,
                 pad: int = 2) -> np.ndarray:
    """uint8 RGB grid of ``[image | image with coloured mask]`` tiles.

    ``images`` is [N,C,H,W] in [-1, 1] (C = 1 or 3; other counts show their first channel),
    ``masks`` [N,H,W] integer labels.
    """
    if images.ndim != 4 or masks.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(f"images {tuple(images.shape)} and masks {tuple(masks.shape)} do not pair up")
    images = viewable(images)
    rgb = ((images.float().clamp(-1, 1) + 1) * 127.5).numpy()
    if rgb.shape[1] == 1:
        rgb = np.repeat(rgb, 3, axis=1)
    rgb = rgb.transpose(0, 2, 3, 1)
    labels = masks.numpy().astype(np.int64)
    colours = PALETTE[(labels - 1) % len(PALETTE)]
    blended = np.where((labels > 0)[..., None], rgb * (1 - alpha) + colours * alpha, rgb)
    tiles = np.concatenate([rgb, np.full((*rgb.shape[:2], pad, 3), 255.0), blended], axis=2)
    n, h, w, _ = tiles.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h,
             pad + c * (w + pad):pad + c * (w + pad) + w] = tiles[i].round().astype(np.uint8)
    return grid


def with_legend(grid: np.ndarray, title: str = "", label_map: dict[int, str] | None = None) -> np.ndarray:
    """The grid under a white band with ``title`` and a colour swatch per non-background label."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    entries = [(int(k), name) for k, name in sorted((label_map or {}).items()) if int(k) > 0]
    line = 14
    height = 6 + line * (bool(title) + bool(entries)) + 4
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    needed = 8 + max(int(measure.textlength(title, font=font)),
                     sum(25 + int(measure.textlength(name, font=font)) for _, name in entries))
    if needed > grid.shape[1]:  # a narrow grid: widen it (white) rather than cut the legend
        grid = np.pad(grid, ((0, 0), (0, needed - grid.shape[1]), (0, 0)), constant_values=255)
    band = Image.new("RGB", (grid.shape[1], height), "white")
    draw = ImageDraw.Draw(band)
    y = 4
    if title:
        draw.text((4, y), title, fill=(0, 0, 0), font=font)
        y += line
    x = 4
    for label, name in entries:
        colour = tuple(int(v) for v in PALETTE[(label - 1) % len(PALETTE)])
        draw.rectangle([x, y + 2, x + 9, y + 11], fill=colour)
        draw.text((x + 13, y), name, fill=(0, 0, 0), font=font)
        x += 13 + int(draw.textlength(name, font=font)) + 12
    return np.concatenate([np.asarray(band, dtype=np.uint8), grid], axis=0)


def save_grid(grid: np.ndarray, path, title: str = "", label_map: dict[int, str] | None = None,
              scale: int = 1) -> None:
    """Write a grid as PNG; with ``title`` or ``label_map``, under a legend band. ``scale`` enlarges
    the tiles (nearest neighbour: small images stay readable, pixels stay pixels)."""
    from PIL import Image

    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    if title or label_map:
        grid = with_legend(grid, title, label_map)
    Image.fromarray(grid).save(path)
