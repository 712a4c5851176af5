"""Generated (and real) pairs written as an nnU-Net v2 raw data set, ready for
``nnUNetv2_plan_and_preprocess -d ID --verify_dataset_integrity``.

Every pair is one 2-D case saved as 8-bit PNG, the format of nnU-Net's natural-image reader
(``NaturalImage2DIO``): a grey image is ``CASE_0000.png``, an RGB one a single ``CASE_0000.png``
with three channel names, any other channel count one grey file per channel. The channel names are
``rgb_to_0_1`` (nnU-Net divides by 255 and nothing else), because the toolkit has already scaled
the intensities (CT windowed, MR by percentiles): nnU-Net's CT or per-image z-score normalisation
would scale them a second time, and differently for real and generated cases. Labels are the
model's, consecutive from 0 = ``background``.

The data set is written into a hidden ``.DatasetXXX_NAME.partial`` folder and renamed into place
at the end, so a failure never leaves a half-written data set that nnU-Net would take as whole.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ...sampling import to_uint8
from ..slices import DatasetError, SliceDataset

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
ENDING = ".png"
FOLDS = 5
SPLIT_SEED = 12345  # the seed nnU-Net's own five folds are drawn with


RESERVED = ("background", "ignore")  # nnU-Net reads "ignore" as its ignore label


def nnunet_labels(label_map: dict[int, str]) -> tuple[dict[str, int], dict[str, Any]]:
    """(nnU-Net's ``labels`` as name -> value, consecutive from background 0; what was changed to get
    there, for the record: renamed or remapped labels)."""
    changes: dict[str, Any] = {}
    values = sorted(label_map)
    if values != list(range(len(values))):
        changes["label_values"] = {str(i): v for i, v in enumerate(values)}  # written index -> model value
    names: dict[str, int] = {}
    for index, value in enumerate(values):
        name = "background" if index == 0 else label_map[value]
        if name in names or (index and name in RESERVED):
            name = f"{name}_{index}"
        names[name] = index
    if label_map[values[0]] != "background":
        changes["background_was"] = label_map[values[0]]
    return names, changes


class NnunetWriter:
    """Cases added batch by batch; :meth:`finish` writes ``dataset.json`` and moves the folder into
    place. Use as a context manager: leaving it by an exception removes the partial folder."""

    def __init__(self, out: Path, dataset_id: int, name: str, label_map: dict[int, str], channels: int,
                 overwrite: bool = False) -> None:
        if not 1 <= dataset_id <= 999:
            raise DatasetError(f"nnunet: dataset id {dataset_id} is outside 1-999 (nnU-Net's three digits)")
        if not NAME.fullmatch(name):
            raise DatasetError(f"nnunet: dataset name {name!r} must be letters, digits, '-' or '_' (no spaces)")
        self.out = Path(out).expanduser()
        self.folder_name = f"Dataset{dataset_id:03d}_{name}"
        self.existing = existing(self.out, dataset_id, overwrite)
        self.labels, self.changes = nnunet_labels(label_map)
        self.lookup = np.zeros(max(label_map) + 1, dtype=np.uint8)
        self.lookup[sorted(label_map)] = np.arange(len(label_map), dtype=np.uint8)
        self.channels = channels
        self.partial = self.out / f".{self.folder_name}.partial"
        if self.partial.exists():
            shutil.rmtree(self.partial)  # an earlier run's leftover: never part of a data set
        for sub in ("imagesTr", "labelsTr"):
            (self.partial / sub).mkdir(parents=True)
        self.rows: list[dict[str, Any]] = []
        self.training = 0
        self.test = 0

    def __enter__(self) -> NnunetWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.partial, ignore_errors=True)

    def add(self, images: Any, masks: Any, cases: list[str], rows: Iterable[dict[str, Any]],
            test: bool = False) -> None:
        """Pairs as cases: ``images`` [N, C, H, W] in [-1, 1], ``masks`` [N, H, W] of model label
        values; ``test``: into imagesTs/labelsTs (not counted by nnU-Net's numTraining)."""
        from PIL import Image

        pictures = to_uint8(images)
        labels = self.lookup[np.asarray(masks.numpy() if hasattr(masks, "numpy") else masks, dtype=np.int64)]
        if pictures.shape[1] != self.channels:
            raise DatasetError(f"nnunet: {pictures.shape[1]} image channels where the data set has {self.channels}")
        images_dir, labels_dir = (self.partial / "imagesTs", self.partial / "labelsTs") if test else \
            (self.partial / "imagesTr", self.partial / "labelsTr")
        images_dir.mkdir(exist_ok=True)
        labels_dir.mkdir(exist_ok=True)
        for picture, label, case, row in zip(pictures, labels, cases, rows, strict=True):
            if self.channels == 3:
                files = [picture.transpose(1, 2, 0)]  # one RGB file, three channel names
            else:
                files = list(picture)  # one grey file per channel
            for k, array in enumerate(files):
                Image.fromarray(np.ascontiguousarray(array)).save(images_dir / f"{case}_{k:04d}{ENDING}")
            Image.fromarray(label).save(labels_dir / f"{case}{ENDING}")
            self.rows.append({"case": case, "split": "test" if test else "train", **row})
        if test:
            self.test += len(cases)
        else:
            self.training += len(cases)

    def finish(self, record: dict[str, Any]) -> Path:
        """Write ``dataset.json``, ``cases.csv`` and ``splits_final.json``; move the folder into place."""
        description = (f"{record.get('synthetic_cases', 0)} generated 2-D cases"
                       + (f" and {record['real_training_cases']} real ones" if record.get("real_training_cases")
                          else "") + " written by medgan-zoo")
        dataset = {
            "name": self.folder_name.split("_", 1)[1],
            "description": description,
            "channel_names": {str(k): "rgb_to_0_1" for k in range(self.channels)},
            "labels": self.labels,
            "numTraining": self.training,
            "file_ending": ENDING,
            "overwrite_image_reader_writer": "NaturalImage2DIO",
            "medgan_zoo": {**record, **self.changes, "numTest": self.test},
        }
        (self.partial / "dataset.json").write_text(json.dumps(dataset, indent=2) + "\n")
        self._write_cases()
        self._write_splits()
        final = self.out / self.folder_name
        aside = [old.rename(old.with_name(f".{old.name}.replaced")) for old in self.existing]  # kept until the new
        self.partial.rename(final)                                                          # one is in place
        for old in aside:
            shutil.rmtree(old)
        return final

    def _write_cases(self) -> None:
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        with (self.partial / "cases.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(self.rows)

    def _write_splits(self) -> None:
        """Five folds in nnU-Net's ``splits_final.json`` form that keep one real subject's slices in
        one fold (nnU-Net's default folds are drawn by case, and a case here is a slice)."""
        training = [row for row in self.rows if row["split"] == "train"]
        groups = list(dict.fromkeys(row.get("subject") or row["case"] for row in training))
        if len(groups) < FOLDS:
            return
        order = np.random.default_rng(SPLIT_SEED).permutation(len(groups))
        fold_of = {groups[i]: position % FOLDS for position, i in enumerate(order)}
        folds = [{"train": [], "val": []} for _ in range(FOLDS)]
        for row in training:
            held = fold_of[row.get("subject") or row["case"]]
            for k, fold in enumerate(folds):
                fold["val" if k == held else "train"].append(row["case"])
        (self.partial / "splits_final.json").write_text(json.dumps(folds, indent=1) + "\n")


def existing(out: Path, dataset_id: int, overwrite: bool, warn: bool = True) -> list[Path]:
    """The data sets with ``dataset_id`` already in ``out`` (refused unless ``overwrite``); a warning
    names nnU-Net's own folders for that id, which would no longer match the new data set."""
    import os
    import warnings

    found = sorted(p for p in Path(out).expanduser().glob(f"Dataset{dataset_id:03d}_*") if p.is_dir())
    if found and not overwrite:
        raise DatasetError(f"{found[0]} exists: nnU-Net tells data sets apart by their id ({dataset_id}); choose "
                           "another --dataset-id or pass --overwrite to replace it")
    stale = [p for variable in ("nnUNet_preprocessed", "nnUNet_results") if os.environ.get(variable)
             for p in Path(os.environ[variable]).expanduser().glob(f"Dataset{dataset_id:03d}_*")]
    if stale and warn:
        warnings.warn(f"nnU-Net already has {', '.join(map(str, stale))} for id {dataset_id}: delete it before "
                      "nnUNetv2_plan_and_preprocess, whose plans and folds would not match the new cases", stacklevel=3)
    return found


def check_real(real: SliceDataset, label_map: dict[int, str], channels: int, resolution: int) -> None:
    """Real pairs fit to go beside a model's: the same labels, channels and resolution."""
    if real.label_map != label_map:
        raise DatasetError(f"nnunet: the real data's labels {real.label_map} differ from the model's {label_map}")
    if real.channels != channels:
        raise DatasetError(f"nnunet: the real data has {real.channels} channel(s), the model {channels}")
    if real.resolution != resolution:
        raise DatasetError(f"nnunet: the real data is {real.resolution} px, the model {resolution} px")


def add_real(writer: NnunetWriter, real: SliceDataset, test: bool, first: int = 0) -> int:
    """The real pairs as cases ``real_NNNNNN`` (``first`` on), 512 at a time; returns the next index."""
    for start in range(0, len(real), 512):
        stop = min(start + 512, len(real))
        rows = [{"origin": "real", "subject": real.subject_ids[int(real.subject_index[i])],
                 "volume": real.volume_ids[int(real.volume_index[i])],
                 "class": real.group_names[g] if (g := int(real.group_index[i])) >= 0 else ""}
                for i in range(start, stop)]
        writer.add(real.images[start:stop], real.masks[start:stop],
                   [f"real_{first + i:06d}" for i in range(start, stop)], rows, test)
    return first + len(real)


def export_nnunet(model: Any, out: str | Path, n: int, *, dataset_id: int = 501, name: str = "Synth",
                  seed: int | None = None, batch_size: int | None = None, device: Any = None,
                  real: SliceDataset | None = None, real_test: SliceDataset | None = None,
                  overwrite: bool = False, **options: Any) -> Path:
    """``n`` generated pairs of ``model`` (a :class:`~medgan_zoo.model.GanModel`) as the nnU-Net raw
    data set ``out/DatasetXXX_NAME``; ``real``: real training pairs added as cases too (the
    paper's "original + synthetic"); ``real_test``: real test pairs in imagesTs/labelsTs."""
    info = model.info
    for data in (real, real_test):
        if data is not None:
            check_real(data, model.label_map, info.image_channels, info.resolution)
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    used = seed
    with NnunetWriter(out, dataset_id, name, model.label_map, info.image_channels, overwrite) as writer:
        for start, samples in model.stream(n, seed=seed, batch_size=batch_size, device=device, **options):
            used = samples.seed
            rows = [{"origin": "synthetic", "sample": start + i, "class": samples.class_of(i) or ""}
                    for i in range(len(samples))]
            writer.add(samples.images, samples.masks, [f"synth_{start + i:06d}" for i in range(len(samples))], rows)
        following = add_real(writer, real, False) if real is not None else 0
        if real_test is not None:
            add_real(writer, real_test, True, following)
        return writer.finish({
            "model": info.gan, "trained_on": info.dataset, "seed": used, "synthetic_cases": n,
            "real_training_cases": len(real) if real is not None else 0, "resolution": info.resolution,
            "options": {k: v for k, v in options.items() if k != "classes"}})


__all__ = ["NnunetWriter", "export_nnunet", "nnunet_labels"]
