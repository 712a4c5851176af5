"""ACDC (Bernard et al., 2018): short-axis cine MRI, ED and ES frames, labels 0 bg, 1 RV, 2 MYO, 3 LV.

Expected, in any nesting: ``patientNNN/Info.cfg``, ``patientNNN_frameXX.nii.gz`` and
``patientNNN_frameXX_gt.nii.gz``; ``patientNNN_4d.nii.gz`` (the whole cine) is ignored. The split
comes from a ``training``/``testing`` folder, or else from the ACDC numbering (1-100 train). Each
slice's group (``nor``, ``minf``, ``dcm``, ``hcm``, ``rv``) comes from Info.cfg's ``Group``; a patient
whose Info.cfg lacks it (as in some copies of the test set) has its slices' group unknown (None):
they load and train as before, and what needs groups (conditional training, mode coverage) refuses
them by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .build import make_dataset, wanted, with_progress
from .cache import file_fingerprints
from .configs import AcdcConfig
from .files import find, reading, require_root, split_from_folders
from .labels import ACDC_GROUPS, ACDC_LABELS
from .preprocessing import percentile_scale, resample_square
from .slices import DatasetError, SliceArrays, SliceDataset

EXPECTED = "the ACDC release (training/patientNNN/patientNNN_frameXX.nii.gz with _gt masks)"
_FRAME = r"(patient\d{3}_frame\d{2})\.nii(?:\.gz)?"


def _info(info: Path | None) -> dict[str, str]:
    if info is None:
        return {}
    with reading(info, "ACDC info file"):
        return dict(re.findall(r"^\s*(\w+)\s*:\s*(\S+)", info.read_text(), re.M))


def _phases(info: Path | None, frames: list[int]) -> dict[str, int]:
    """ED/ES frame numbers from Info.cfg, or else the first and last frame present."""
    if info is not None:
        with reading(info, "ACDC info file"):
            values = _info(info)
            return {"ed": int(values["ED"]), "es": int(values["ES"])}
    return {"ed": min(frames), "es": max(frames)}


def _group(patient: str, info: Path | None) -> str | None:
    """The patient's group from Info.cfg (None when the file or its Group line is missing)."""
    code = _info(info).get("Group")
    if code is None:
        return None
    if code.lower() not in ACDC_GROUPS:
        raise DatasetError(f"acdc: {patient}'s Info.cfg ({info}) has Group {code!r}; ACDC's groups are "
                           f"{', '.join(g.upper() for g in ACDC_GROUPS)}")
    return code.lower()


def _read_frame(image_path: Path, mask_path: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    import nibabel as nib

    with reading(image_path, "NIfTI image"):
        image_nii: Any = nib.load(str(image_path))
        image = np.asarray(image_nii.dataobj, dtype=np.float32)
        spacing = tuple(float(s) for s in image_nii.header.get_zooms()[:2])
    with reading(mask_path, "NIfTI mask"):
        mask_nii: Any = nib.load(str(mask_path))
        mask = np.asarray(mask_nii.dataobj)
    if image.ndim != 3:
        raise DatasetError(f"{image_path}: expected a 3D frame, got shape {image.shape}")
    if mask.shape != image.shape:
        raise DatasetError(f"{mask_path}: mask shape {mask.shape} differs from image {image_path} {image.shape}")
    if not np.all(np.isin(mask, list(ACDC_LABELS))):
        bad = sorted(set(np.unique(mask).tolist()) - set(ACDC_LABELS))[:10]
        raise DatasetError(f"{mask_path}: labels {bad} are outside ACDC's label map {ACDC_LABELS}")
    return image, mask.astype(np.uint8), (spacing[0], spacing[1])


def load_acdc(config: AcdcConfig) -> SliceDataset:
    root = require_root("acdc", config.data_root, EXPECTED)
    images = find(root, _FRAME)  # the _gt masks and the 4D cine do not match
    if not images:
        raise DatasetError(f"acdc: no frames named patientNNN_frameXX.nii.gz under {root} (expected {EXPECTED})")
    patients: dict[str, dict[int, Path]] = {}
    for key, paths in images.items():
        patient, frame = key.split("_frame")
        patients.setdefault(patient, {})[int(frame)] = paths[0]
    infos = {p.parent.name: p for p in root.rglob("Info.cfg")}

    selected: list[tuple[str, str, Path, Path]] = []
    groups: dict[str, str | None] = {}
    for patient in sorted(patients):
        frames = patients[patient]
        any_frame = next(iter(frames.values()))
        subject_split = split_from_folders(any_frame, root) or (
            "train" if int(patient[-3:]) <= 100 else "test"
        )
        if not wanted(config.split, subject_split):
            continue
        phases = _phases(infos.get(patient), sorted(frames))
        groups[patient] = _group(patient, infos.get(patient))
        for phase, number in phases.items():
            if config.frames not in ("both", phase):
                continue
            if number not in frames:
                raise DatasetError(
                    f"acdc: {patient}'s {phase.upper()} frame {number} (from Info.cfg) has no "
                    f"{patient}_frame{number:02d}.nii.gz in {any_frame.parent}"
                )
            image_path = frames[number]
            mask_path = image_path.with_name(image_path.name.replace(".nii", "_gt.nii", 1))
            if not mask_path.exists():
                raise DatasetError(f"acdc: missing mask {mask_path.name} beside {image_path}")
            selected.append((patient, phase, image_path, mask_path))
    if not selected:
        raise DatasetError(f"acdc: no {config.split} exams under {root}")

    def build() -> SliceArrays:
        out_images, out_masks, subjects, volumes, slice_groups = [], [], [], [], []
        for patient, phase, image_path, mask_path in with_progress(selected, f"building acdc ({config.split})"):
            volume, labels, spacing = _read_frame(image_path, mask_path)
            volume = percentile_scale(volume, *config.clip_percentiles)
            for z in range(volume.shape[2]):
                image, mask = resample_square(volume[None, :, :, z], labels[:, :, z], spacing,
                                              config.resolution, config.field_of_view_mm)
                out_images.append(image)
                out_masks.append(mask)
                subjects.append(patient)
                volumes.append(f"{patient}_{phase}")  # ED and ES are scored as separate volumes
                slice_groups.append(groups[patient])
        return SliceArrays(np.stack(out_images), np.stack(out_masks), subjects, volumes, slice_groups)

    # the groups come from Info.cfg: a changed one rebuilds the cache
    used_infos = [infos[p] for p in sorted({patient for patient, *_ in selected}) if p in infos]
    sources = file_fingerprints(root, [p for _, _, i, m in selected for p in (i, m)] + used_infos)
    return make_dataset("acdc", config, ACDC_LABELS, 1, sources, build, group_names=list(ACDC_GROUPS))
