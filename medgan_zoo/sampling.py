"""The sampling contract: per-sample seeds, the :class:`Samples` container and on-disk writers.

Sample ``i`` of ``sample(n, seed=s)`` is drawn from its own generator seeded by (s, i), so the
result does not depend on the batch size or the device, and ``sample(100, seed=s)`` starts with
``sample(10, seed=s)``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from .jsonsafe import dumps

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


def sample_classes(seed: int, start: int, count: int, shares: tuple[float, ...] | list[float]) -> Tensor:
    """Classes [count] of samples start..start+count-1 drawn in the proportions ``shares``, each
    from its own seed (a stream apart from its latent's), so they too depend only on (seed, i)."""
    cdf = np.cumsum(np.asarray(shares, dtype=np.float64))
    cdf /= cdf[-1]
    u = [np.random.default_rng(sample_seed(seed, start + row) ^ 0x5EED).random() for row in range(count)]
    return torch.from_numpy(np.searchsorted(cdf, u, side="right").clip(max=len(cdf) - 1)).to(torch.int64)


def latents(seed: int, start: int, count: int, dim: int) -> Tensor:
    """Latent vectors [count, dim] of samples start..start+count-1, on the CPU."""
    out = torch.empty(count, dim)
    for row in range(count):
        generator = torch.Generator().manual_seed(sample_seed(seed, start + row))
        out[row] = torch.randn(dim, generator=generator)
    return out


@dataclass
class Samples:
    """Generated pairs on the CPU: ``images`` float32 [N,C,H,W] in [-1, 1], ``masks`` uint8 [N,H,W];
    from a class-conditional model also ``classes`` int64 [N] (indices into ``class_names``)."""

    images: Tensor
    masks: Tensor
    seed: int
    label_map: dict[int, str] = field(default_factory=dict)
    classes: Tensor | None = None
    class_names: list[str] | None = None

    def class_of(self, i: int) -> str | None:
        """Sample ``i``'s class name (None from an unconditional model)."""
        if self.classes is None or self.class_names is None:
            return None
        return self.class_names[int(self.classes[i])]

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


def to_uint8(images: Tensor | np.ndarray) -> np.ndarray:
    """Images [N, C, H, W] in [-1, 1] as uint8 0..255 (what every 8-bit file written here holds)."""
    array = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
    return np.round((np.clip(array, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def write_samples(out: Path, samples: Samples, format: str, start: int = 0) -> list[Path]:
    """PNG: ``image_NNNNNN.png`` + ``mask_NNNNNN.png`` (label values) per sample; NPZ: one
    ``samples_NNNNNN.npz`` per call; NIfTI: ``images_NNNNNN.nii.gz`` [H,W,N(,C)] and
    ``masks_NNNNNN.nii.gz`` [H,W,N] per call. NNNNNN is the index of the first sample. Samples
    with classes: PNG and NIfTI get ``classes_NNNNNN.csv`` (index, class) per call, NPZ holds
    ``classes`` (indices) and ``class_names``."""
    check_format(format)
    if format == "png" and samples.images.shape[1] not in (1, 3):
        raise ValueError(f"PNG holds grey or RGB images; these have {samples.images.shape[1]} channels: use format "
                         "npz, nifti or nnunet")
    out.mkdir(parents=True, exist_ok=True)
    sidecar = []
    if samples.classes is not None and format != "npz":
        path = out / f"classes_{start:06d}.csv"
        path.write_text("index,class\n" + "".join(f"{start + i},{samples.class_of(i)}\n" for i in range(len(samples))))
        sidecar.append(path)
    images = to_uint8(samples.images)
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
        return written + sidecar
    if format == "npz":
        path = out / f"samples_{start:06d}.npz"
        arrays: dict[str, Any] = {
            "images": samples.images.numpy(), "masks": masks,
            "seeds": np.array([sample_seed(samples.seed, start + i) for i in range(len(masks))], dtype=np.uint64)}
        if samples.classes is not None:
            arrays.update(classes=samples.classes.numpy(), class_names=np.array(samples.class_names or []))
        np.savez_compressed(path, **arrays)
        return [path]
    import nibabel as nib

    volume = samples.images.numpy().transpose(2, 3, 0, 1)  # [H, W, N, C]
    volume = volume[..., 0] if volume.shape[3] == 1 else volume
    image_path, mask_path = out / f"images_{start:06d}.nii.gz", out / f"masks_{start:06d}.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(volume, dtype=np.float32), np.eye(4)), image_path)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(masks.transpose(1, 2, 0)), np.eye(4)), mask_path)
    return [image_path, mask_path, *sidecar]


def write_manifest(out: Path, info: dict) -> Path:
    path = out / "samples.json"
    path.write_text(dumps(info, indent=2))
    return path


def batches(n: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """(start, count) of consecutive batches covering n samples."""
    for start in range(0, n, batch_size):
        yield start, min(batch_size, n - start)
