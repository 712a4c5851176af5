"""Config models of the built-in datasets (pydantic only, so discovery stays light).

Every preprocessing choice is a field, and every field enters the on-disk cache key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..specs import PluginConfig

Split = Literal["train", "val", "test", "all"]


class DatasetConfig(PluginConfig):
    """Fields every dataset has."""

    split: Split = Field(default="train", description="Subjects of the training, validation (a share of the "
                         "training subjects, see val_fraction) or test split, or all.")
    val_fraction: float = Field(
        default=0.0, ge=0.0, le=0.5,
        description="Share of the training subjects held out as the 'val' split (seeded, by subject, stratified "
        "by class where the data set has classes); 'train' then excludes them. 0: no val split (the paper's splits).")
    val_seed: int = Field(default=0, ge=0, description="Seed of the choice of validation subjects.")
    resolution: int = Field(default=128, ge=16, le=1024, description="Output slices are square, this wide.")
    cache: bool = Field(
        default=True,
        description="Keep preprocessed tensors on disk (MEDGAN_ZOO_CACHE or the user cache dir).",
    )


class RealDatasetConfig(DatasetConfig):
    data_root: Path | None = Field(default=None, description="Folder holding the data set as released.")


class AcdcConfig(RealDatasetConfig):
    frames: Literal["both", "ed", "es"] = Field(
        default="both", description="Cardiac phases to take slices from (end-diastole, end-systole)."
    )
    field_of_view_mm: float | None = Field(
        default=256.0, gt=0,
        description="Physical width of the output square, centred on the slice; None keeps the "
        "whole slice (longest side fills the square).",
    )
    clip_percentiles: tuple[float, float] = Field(
        default=(0.5, 99.5),
        description="Intensity percentiles of each frame mapped to -1 and 1 (values beyond clipped).",
    )

    @field_validator("clip_percentiles")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 <= low < high <= 100:
            raise ValueError(f"need 0 <= low < high <= 100, got {value}")
        return value


class Sliver07Config(RealDatasetConfig):
    test_volumes: tuple[int, ...] = Field(
        default=(16, 17, 18, 19, 20),
        description="Volume numbers held out as the test split (the rest train).",
    )
    hu_level: float = Field(default=40.0, description="Centre of the CT window in HU.")
    hu_width: float = Field(default=400.0, gt=0, description="Width of the CT window in HU.")
    field_of_view_mm: float | None = Field(
        default=None, gt=0, description="Physical width of the output square; None keeps the whole slice."
    )
    foreground_slices_only: bool = Field(
        default=False, description="Keep only slices that contain liver (the paper keeps all)."
    )


class IdridConfig(RealDatasetConfig):
    fov_threshold: int = Field(
        default=15, ge=0, le=254,
        description="Pixels brighter than this (0-255, any channel) belong to the camera's field of "
        "view; the image is cropped to their bounding box and padded square.",
    )


class PhantomConfig(DatasetConfig):
    seed: int = Field(default=0, ge=0, description="Seed of the generator; any index is reproducible.")


class AcdcPhantomConfig(PhantomConfig):
    train_subjects: int = Field(default=100, ge=1, description="Exams in the training split (ACDC: 100).")
    test_subjects: int = Field(default=50, ge=1, description="Exams in the test split (ACDC: 50).")
    frames: Literal["both", "ed", "es"] = Field(default="both", description="Cardiac phases to render.")
    pathology: bool = Field(
        default=False,
        description="Render ACDC's five groups (nor, minf, dcm, hcm, rv; exam n is group (n - 1) mod 5) with their "
        "anatomical signatures, and give each slice its group; off: the healthy-range phantom, no groups.")


class Sliver07PhantomConfig(PhantomConfig):
    volumes: int = Field(default=20, ge=2, description="CT volumes (SLiver07: 20 with labels).")
    test_volumes: tuple[int, ...] = Field(
        default=(16, 17, 18, 19, 20), description="Volume numbers held out as the test split."
    )
    slices_per_volume: int = Field(
        default=208, ge=8, description="Mean axial slices per volume (SLiver07: 4159 / 20 = 208)."
    )

    @model_validator(mode="after")
    def _test_volumes_exist(self) -> Sliver07PhantomConfig:
        outside = [v for v in self.test_volumes if not 1 <= v <= self.volumes]
        if outside:
            raise ValueError(f"test_volumes {outside} are not among volumes 1..{self.volumes}")
        if len(set(self.test_volumes)) >= self.volumes:
            raise ValueError("test_volumes leaves no training volume")
        return self


class IdridPhantomConfig(PhantomConfig):
    train_images: int = Field(default=54, ge=1, description="Images in the training split (IDRiD: 54).")
    test_images: int = Field(default=27, ge=1, description="Images in the test split (IDRiD: 27).")
