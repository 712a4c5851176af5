"""What a saved model folder's ``config.json`` holds, and the names of the folder's files."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
FORMAT = "medgan-zoo/model/1"


class ModelInfo(BaseModel):
    """The contents of ``config.json``."""

    model_config = ConfigDict(extra="forbid")

    format: str = FORMAT
    gan: str
    plugin_distribution: str
    plugin_version: str
    gan_config: dict[str, Any]
    dataset: str
    label_map: dict[int, str]
    resolution: int
    image_channels: int
    medgan_zoo_version: str = __version__
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
