"""The settings of the ``nnunet`` data set: the reading, geometry and intensity fields of the
``folder`` data set, with subjects grouped from case names."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..folder.config import FilesConfig


class NnunetConfig(FilesConfig):
    subject_pattern: str | None = Field(
        default=None, description="Regex on the case name whose first group is the subject, e.g. '^(.+?)_frame' for "
        "nnU-Net's ACDC (patient001_frame01 and patient001_frame12 are one patient); default: each case its own "
        "subject.")
    modality: Literal["auto", "ct", "mr", "rgb", "grey"] = Field(
        default="auto", description="Intensity scaling of every channel: ct (HU window), mr (per-volume "
        "percentiles), rgb or grey (/255); auto: from dataset.json's channel names: 'CT' (any case) gives ct, "
        "other volume channels mr, 8-bit pictures rgb or grey.")
