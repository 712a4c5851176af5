"""What an nnU-Net v2 raw data set or a Decathlon folder holds, from its ``dataset.json``: the cases
with their channel files and label, the channel names and the label names.

nnU-Net v2 (``channel_names``, ``labels`` as name -> value, ``file_ending``, ``numTraining``; cases
found as ``imagesTr/CASE_XXXX<ending>`` + ``labelsTr/CASE<ending>``, or listed under ``dataset``);
the Decathlon (``modality``, ``labels`` as value -> name, ``training`` as a list of
``{image, label}``; multi-modal images are 4-D NIfTI with channels last). ``imagesTs`` is never
read: it has no labels.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..folder.readers import kind
from ..slices import DatasetError

DATASET_JSON = "dataset.json"


@dataclass(frozen=True)
class Case:
    name: str
    images: tuple[Path, ...]  # one file per channel (a Decathlon 4-D file or an RGB picture: one file)
    label: Path


@dataclass(frozen=True)
class Layout:
    kind: str  # "nnunet" (v2) or "msd"
    source: Path  # the dataset.json
    cases: list[Case]
    channel_names: list[str]
    labels: dict[int, str]  # value -> name
    file_ending: str

    @property
    def volumes(self) -> bool:
        return kind(Path("x" + self.file_ending)) == "volume"

    def modalities(self) -> tuple[str, ...] | None:
        """Each channel's intensity handling from its name (nnU-Net's rule: 'CT' is CT, any other
        name is normalised per image): ct or mr for volumes; pictures decide by their bit depth."""
        if not self.volumes:
            return None
        return tuple("ct" if name.casefold() == "ct" else "mr" for name in self.channel_names)


def read_layout(root: Path) -> Layout:
    source = root / DATASET_JSON
    if not source.is_file():
        raise DatasetError(f"nnunet: no {DATASET_JSON} in {root} (expected an nnU-Net v2 raw data set, e.g. "
                           "nnUNet_raw/Dataset027_ACDC, or a Decathlon folder such as Task02_Heart)")
    try:
        data = json.loads(source.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{source}: not readable JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{source}: expected a JSON object")
    if "channel_names" in data:
        return _nnunet(root, source, data)
    if "modality" in data and "training" in data:
        return _decathlon(root, source, data)
    raise DatasetError(f"{source}: neither nnU-Net v2 (channel_names, labels as name -> value, file_ending, "
                       "numTraining) nor Decathlon (modality, labels, training) fields")


def _need(data: dict[str, Any], source: Path, *fields: str) -> None:
    missing = [f for f in fields if f not in data]
    if missing:
        raise DatasetError(f"{source}: no field {', '.join(missing)}")


def _channels(value: Any, source: Path, field: str) -> list[str]:
    try:
        keyed = {int(k): str(v) for k, v in dict(value).items()}
    except (TypeError, ValueError):
        raise DatasetError(f"{source}: {field} must map channel indices ('0', '1', ...) to names") from None
    if sorted(keyed) != list(range(len(keyed))) or not keyed:
        raise DatasetError(f"{source}: {field} indices must be 0, 1, ... (found {sorted(keyed)})")
    return [keyed[i] for i in range(len(keyed))]


def _label_names(pairs: list[tuple[Any, Any]], source: Path) -> dict[int, str]:
    names: dict[int, str] = {}
    for name, value in pairs:
        if str(name) == "ignore":
            raise DatasetError(f"{source}: the 'ignore' label (partly annotated masks) is not supported: a generated "
                               "mask cannot mark pixels as unannotated")
        if isinstance(value, (list, tuple)):
            raise DatasetError(f"{source}: label {name!r} is a region ({value}); region-based labels are not supported")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise DatasetError(f"{source}: label {name!r} has value {value!r}, not an integer") from None
        if number in names:
            raise DatasetError(f"{source}: labels {names[number]!r} and {name!r} share the value {number}")
        names[number] = str(name)
    if 0 not in names:
        raise DatasetError(f"{source}: no label with value 0 (background)")
    return names


def _nnunet(root: Path, source: Path, data: dict[str, Any]) -> Layout:
    _need(data, source, "channel_names", "labels", "numTraining", "file_ending")
    if data.get("regions_class_order") is not None:
        raise DatasetError(f"{source}: regions_class_order is set: region-based labels are not supported")
    channels = _channels(data["channel_names"], source, "channel_names")
    if not isinstance(data["labels"], dict):
        raise DatasetError(f"{source}: labels must map names to values")
    labels = _label_names(list(data["labels"].items()), source)
    ending = str(data["file_ending"])
    if kind(Path("x" + ending)) not in ("volume", "picture"):
        raise DatasetError(f"{source}: file_ending {ending!r} is not read here (NIfTI, MetaImage, NRRD, PNG, BMP or "
                           "2-D TIFF)")
    if "dataset" in data:
        cases = _listed(root, source, data["dataset"])
    else:
        cases = _found(root, source, ending, len(channels))
    expected = data["numTraining"]
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise DatasetError(f"{source}: numTraining must be a whole number, not {expected!r}")
    if expected != len(cases):
        raise DatasetError(f"{source}: numTraining is {expected} but {len(cases)} training case(s) are there")
    return Layout("nnunet", source, cases, channels, labels, ending)


def _file(root: Path, given: str, source: Path, what: str) -> Path:
    path = Path(os.path.expandvars(given))
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise DatasetError(f"{source}: {what} {given} is not there ({path})")
    return path


def _listed(root: Path, source: Path, listed: Any) -> list[Case]:
    """nnU-Net v2's ``dataset`` field: case -> {images: [...], label: ...}, paths relative to the root."""
    if not isinstance(listed, dict):
        raise DatasetError(f"{source}: dataset must map case names to {{images, label}}")
    cases = []
    for name, entry in listed.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("images"), list) or "label" not in entry:
            raise DatasetError(f"{source}: dataset entry {name!r} needs images (a list of files) and label")
        images = tuple(_file(root, str(p), source, f"case {name}'s image") for p in entry["images"])
        cases.append(Case(str(name), images, _file(root, str(entry["label"]), source, f"case {name}'s label")))
    return cases


def _found(root: Path, source: Path, ending: str, count: int) -> list[Case]:
    """Cases of ``imagesTr/CASE_XXXX<ending>``, each with every channel and ``labelsTr/CASE<ending>``."""
    folder = root / "imagesTr"
    if not folder.is_dir():
        raise DatasetError(f"nnunet: no imagesTr folder in {root} (and {source.name} lists no dataset)")
    pattern = re.compile(rf"(.+)_(\d{{4}}){re.escape(ending)}")
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.name.endswith(ending):  # ._* AppleDouble files included
            continue
        match = pattern.fullmatch(path.name)
        if match is None:
            raise DatasetError(f"{path}: not named CASE_XXXX{ending} (XXXX: the 4-digit channel index)")
        channel = int(match.group(2))
        if channel >= count:
            raise DatasetError(f"{path}: channel {channel}, but {source.name} lists {count} channel(s) in "
                               "channel_names")
        found.setdefault(match.group(1), {})[channel] = path
    rgb = kind(Path("x" + ending)) == "picture" and count == 3  # one RGB file may hold all three
    cases = []
    for name, files in found.items():
        missing = [c for c in range(count) if c not in files]
        if missing and not (rgb and sorted(files) == [0]):
            raise DatasetError(f"{folder / f'{name}_{missing[0]:04d}{ending}'}: missing (case {name} has "
                               f"{len(files)} of the {count} channels in {source.name})")
        label = root / "labelsTr" / f"{name}{ending}"
        if not label.is_file():
            raise DatasetError(f"{label}: missing (the label of case {name})")
        cases.append(Case(name, tuple(files[c] for c in sorted(files)), label))
    if not cases:
        raise DatasetError(f"nnunet: no CASE_XXXX{ending} files in {folder}")
    return cases


def _decathlon(root: Path, source: Path, data: dict[str, Any]) -> Layout:
    _need(data, source, "labels", "training")
    channels = _channels(data["modality"], source, "modality")
    if not isinstance(data["labels"], dict):
        raise DatasetError(f"{source}: labels must map values to names")
    labels = _label_names([(name, value) for value, name in data["labels"].items()], source)
    if not isinstance(data["training"], list):
        raise DatasetError(f"{source}: training must be a list of {{image, label}}")
    cases = []
    for entry in data["training"]:
        if not isinstance(entry, dict) or "image" not in entry or "label" not in entry:
            raise DatasetError(f"{source}: every training entry needs image and label (found {entry!r})")
        image = _file(root, str(entry["image"]), source, "training image")
        label = _file(root, str(entry["label"]), source, "training label")
        name = image.name[: -len(".nii.gz")] if image.name.endswith(".nii.gz") else image.stem
        cases.append(Case(name, (image,), label))
    if "numTraining" in data and data["numTraining"] != len(cases):
        raise DatasetError(f"{source}: numTraining is {data['numTraining']} but training lists {len(cases)} case(s)")
    if not cases:
        raise DatasetError(f"{source}: training lists no case")
    return Layout("msd", source, cases, channels, labels, ".nii.gz")


__all__ = ["DATASET_JSON", "Case", "Layout", "read_layout"]
