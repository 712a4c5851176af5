"""The built-in datasets, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from typing import Any

from ..hookspecs import Register, hookimpl
from ..specs import DatasetSpec
from . import configs
from .folder.config import FolderConfig
from .labels import ACDC_LABELS, IDRID_LABELS, SLIVER07_LABELS
from .nnunet.config import NnunetConfig

_PKG = "medgan_zoo.data"
_CARDIAC: dict[str, Any] = {"modality": "cine MRI", "organ": "heart", "channels": 1, "label_map": ACDC_LABELS}
_LIVER: dict[str, Any] = {"modality": "CT", "organ": "liver", "channels": 1, "label_map": SLIVER07_LABELS}
_RETINA: dict[str, Any] = {"modality": "fundus photograph", "organ": "retina", "channels": 3, "label_map": IDRID_LABELS}


@hookimpl
def register_datasets(register: Register) -> None:
    register(DatasetSpec(
        name="acdc", **_CARDIAC, config=configs.AcdcConfig, factory=f"{_PKG}.acdc:load_acdc",
        summary="ACDC short-axis cine MRI, ED and ES slices (100 training, 50 test exams).",
    ))
    register(DatasetSpec(
        name="sliver07", **_LIVER, config=configs.Sliver07Config,
        factory=f"{_PKG}.sliver07:load_sliver07",
        summary="SLiver07 contrast CT, axial slices of the 20 labelled volumes, split by volume.",
    ))
    register(DatasetSpec(
        name="idrid", **_RETINA, config=configs.IdridConfig, factory=f"{_PKG}.idrid:load_idrid",
        summary="IDRiD fundus photographs with optic-disc masks (54 training, 27 test).",
    ))
    register(DatasetSpec(
        name="folder", modality="your own (CT, MR, photographs)", organ="any", channels=None, label_map=None,
        config=FolderConfig, factory=f"{_PKG}.folder.load:load_folder", check=f"{_PKG}.folder.check:inspect",
        summary="Your own images and masks: PNG/JPEG/TIFF/BMP, NIfTI, MetaImage or NRRD in a folder (no plugin).",
    ))
    register(DatasetSpec(
        name="nnunet", modality="your own (as nnU-Net reads it)", organ="any", channels=None, label_map=None,
        config=NnunetConfig, factory=f"{_PKG}.nnunet.load:load_nnunet", check=f"{_PKG}.nnunet.load:inspect",
        summary="An nnU-Net v2 raw data set (dataset.json, imagesTr, labelsTr) or a Decathlon folder, as it is.",
    ))
    register(DatasetSpec(
        name="acdc-phantom", **_CARDIAC, phantom=True, config=configs.AcdcPhantomConfig,
        factory=f"{_PKG}.phantoms.cardiac:load_acdc_phantom",
        summary="Procedural short-axis cardiac MRI twin of ACDC (no download).",
    ))
    register(DatasetSpec(
        name="sliver07-phantom", **_LIVER, phantom=True, config=configs.Sliver07PhantomConfig,
        factory=f"{_PKG}.phantoms.abdomen:load_sliver07_phantom",
        summary="Procedural abdominal CT twin of SLiver07 in HU (no download).",
    ))
    register(DatasetSpec(
        name="idrid-phantom", **_RETINA, phantom=True, config=configs.IdridPhantomConfig,
        factory=f"{_PKG}.phantoms.fundus:load_idrid_phantom",
        summary="Procedural colour fundus twin of IDRiD (no download).",
    ))
