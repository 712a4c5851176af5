"""The sampling contract: per-sample seeds, the :class:`Samples` container and on-disk writers.

Sample ``i`` of ``sample(n, seed=s)`` is drawn from its own generator seeded by (s, i), so the
result does not depend on the batch size or the device, and ``sample(100, seed=s)`` starts with
``sample(10, seed=s)``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

Format = Literal["png", "npz", "nifti"]
FORMATS: tuple[str, ...] = ("png", "npz", "nifti")


def new_seed() -> int:
    """A fresh random seed (when the caller gives none); returned so it can be recorded."""
    return secrets.randbits(63)


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample ``index`` of a run seeded ``seed`` (SeedSequence mixing, 63 bits)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


def sample_seeds(seed: int, start: int, count: int) -> Tensor:
    """Seeds of samples start..start+count-1 (int64 [count]): what ``latents`` seeds each row with."""
    return torch.tensor([sample_seed(seed, start + row) for row in range(count)], dtype=torch.int64)


def latents(seed: int, start: int, count: int, dim: int) -> Tensor:
    """Latent vectors [count, dim] of samples start..start+count-1, on the CPU."""
    out = torch.empty(count, dim)
    for row in range(count):
        generator = torch.Generator().manual_seed(sample_seed(seed, start + row))
        out[row] = torch.randn(dim, generator=generator)
    return out


@dataclass
class Samples:
    """Generated pairs on the CPU: ``images`` float32 [N,C,H,W] in [-1, 1], ``masks`` uint8 [N,H,W]."""

    images: Tensor
    masks: Tensor
    seed: int
    label_map: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def grid(self, count: int = 16, columns: int = 4) -> np.ndarray:
        """uint8 RGB grid of the first ``count`` samples, each beside itself with its mask."""
        from .data.preview import overlay_grid

        return overlay_grid(self.images[:count], self.masks[:count], columns=columns)

    def save(self, out: str | Path, format: Format = "png", start: int = 0) -> list[Path]:
        """Write the samples to ``out`` in ``format``; returns the files written."""
        return write_samples(Path(out), self, format, start)


def check_format(format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"unknown sample format {format!r}; choose one of {', '.join(FORMATS)}")


def write_samples(out: Path, samples: Samples, format: str, start: int = 0) -> list[Path]:
    """PNG: ``image_NNNNNN.png`` + ``mask_NNNNNN.png`` (label values) per sample; NPZ: one
    ``samples_NNNNNN.npz`` per call; NIfTI: ``images_NNNNNN.nii.gz`` [H,W,N(,C)] and
    ``masks_NNNNNN.nii.gz`` [H,W,N] per call. NNNNNN is the index of the first sample."""
    check_format(format)
    out.mkdir(parents=True, exist_ok=True)
    images = ((samples.images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    masks = samples.masks.numpy()
    if format == "png":
        from PIL import Image

        written = []
        for i in range(len(images)):
            image = images[i].transpose(1, 2, 0)
            image = image[..., 0] if image.shape[2] == 1 else image
            for name, array in (("image", image), ("mask", masks[i])):
                path = out / f"{name}_{start + i:06d}.png"
                Image.fromarray(np.ascontiguousarray(array)).save(path)
                written.append(path)
        return written
    if format == "npz":
        path = out / f"samples_{start:06d}.npz"
        np.savez_compressed(path, images=samples.images.numpy(), masks=masks,
                            seeds=np.array([sample_seed(samples.seed, start + i) for i in range(len(masks))],
                                           dtype=np.uint64))
        return [path]
    import nibabel as nib

    volume = samples.images.numpy().transpose(2, 3, 0, 1)  # [H, W, N, C]
    volume = volume[..., 0] if volume.shape[3] == 1 else volume
    image_path, mask_path = out / f"images_{start:06d}.nii.gz", out / f"masks_{start:06d}.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(volume, dtype=np.float32), np.eye(4)), image_path)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(masks.transpose(1, 2, 0)), np.eye(4)), mask_path)
    return [image_path, mask_path]


def write_manifest(out: Path, info: dict) -> Path:
    path = out / "samples.json"
    path.write_text(json.dumps(info, indent=2, default=str))
    return path


def batches(n: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """(start, count) of consecutive batches covering n samples."""
    for start in range(0, n, batch_size):
        yield start, min(batch_size, n - start)
