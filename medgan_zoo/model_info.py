"""What a saved model folder's ``config.json`` holds, and the names of the folder's files."""

from __future__ import annotations

import json
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


def info_for(gan_name: str, gan, dataset, training: dict[str, Any] | None = None) -> ModelInfo:
    """Metadata of a GAN trained on ``dataset`` (a SliceDataset)."""
    from .registry import get_registry

    spec = get_registry().gans[gan_name]
    origin = spec.origin
    return ModelInfo(
        gan=gan_name,
        plugin_distribution=origin.distribution if origin else "unknown",
        plugin_version=origin.version if origin else "unknown",
        gan_config=json.loads(gan.config.model_dump_json()),
        dataset=dataset.name,
        label_map=dataset.label_map,
        resolution=gan.config.resolution,
        image_channels=gan.config.image_channels,
        training=training or {},
    )
