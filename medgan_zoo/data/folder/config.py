"""The settings of data sets read from a user's own files (``folder``, and ``nnunet`` which shares
the reading, geometry and intensity fields): every choice is a field here, shown by ``medgan-zoo
plugins show dataset NAME`` and part of the cache key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ..configs import RealDatasetConfig


class FilesConfig(RealDatasetConfig):
    """Reading, subjects, splits, geometry and intensities of data sets in a user's files."""

    subject_pattern: str | None = Field(
        default=None, description="Regex on the file name whose first group is the subject (default: the "
        "folder for volumes in subject folders, else the file's name).")
    groups_csv: Path | None = Field(
        default=None, description="CSV (relative to the data root, or absolute) with columns subject and group: "
        "each subject's class (pathology), for class-conditional GANs and mode coverage.")
    axis: Literal["axial", "coronal", "sagittal"] = Field(
        default="axial", description="Anatomical axis volumes are sliced along, after reorienting them to RAS.")
    keep_empty: bool = Field(default=True, description="Keep slices whose mask is all background.")
    modality: Literal["auto", "ct", "mr", "rgb", "grey"] = Field(
        default="auto", description="Intensity scaling: ct (HU window), mr (per-volume percentiles), rgb or grey "
        "(/255, or min-max for 16-bit); auto: rgb/grey for 8-bit pictures, refused for volumes (say ct or mr).")
    hu_window: tuple[float, float] = Field(default=(40.0, 400.0), description="CT window level and width (HU).")
    mr_percentiles: tuple[float, float] = Field(default=(1.0, 99.0), description="MR intensities mapped to -1/1.")
    field_of_view_mm: float | None = Field(
        default=None, gt=0, description="Resample slices to this field of view where the spacing is known "
        "(None: the longer side fills the resolution).")
    test_fraction: float = Field(
        default=0.2, ge=0, le=0.8, description="Share of subjects in the test split (seeded, by subject) when no "
        "train/test folders say; 0: everything is train.")
    split_seed: int = Field(default=0, ge=0, description="Seed of the subject-level train/test draw.")
    max_memory_fraction: float = Field(
        default=0.5, gt=0, le=1, description="Refuse, before reading, a split whose preprocessed tensors would take "
        "more than this share of the memory available now.")
    tolerance: float = Field(default=1e-3, gt=0, description="Relative tolerance of image/mask spacing, origin "
                             "and direction agreement.")


class FolderConfig(FilesConfig):
    masks: bool = Field(default=True, description="Pairs of image and mask; false: images only (image-only GANs).")
    mask_suffixes: tuple[str, ...] = Field(
        default=("_mask", "_seg", "_gt", "_label"),
        description="A mask beside its image is named like it plus one of these (before the extension); "
        "images/ + masks/ (or labels/) folders pair by the same name instead.")
    labels_file: Path | None = Field(
        default=None, description="JSON or YAML of mask value -> name (or {'labels': ..., 'colours': "
        "{'R,G,B': value}} for colour masks); default: labels.json/.yaml in the data root.")
    subjects_csv: Path | None = Field(
        default=None, description="CSV (a path relative to the data root, or absolute) with columns image (a file "
        "or series folder relative to the data root, or its name) and subject, optionally split (train/test).")
