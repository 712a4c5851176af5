"""The feature spaces of the paper's Fig. 6: the reference U-Net's bottleneck (a medical feature
space, no download) and Inception's pool3 (FID's space, when its weights are on this machine)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor


@dataclass
class FeatureSpace:
    """Features of images in one space, with the real split's features cached."""

    name: str
    title: str
    weights_sha256: str
    extractor: Any
    cache_prefix: str

    def features(self, images: Tensor) -> Tensor:
        return self.extractor(images)

    def real(self, data) -> Tensor:
        from .feature_cache import cached_features

        return cached_features(data, f"{self.cache_prefix}:{self.weights_sha256}", lambda: self.features(data.images))


def report_spaces(real_train, scale: str, device: torch.device, inception_weights: str | Path | None = None,
                  metric_config: dict[str, dict[str, Any]] | None = None) -> tuple[list[FeatureSpace], str | None]:
    """The U-Net space (the U-Net FD metric's reference U-Net at ``scale`` with its settings from
    ``metric_config``: the same cached network) and Inception's when weights are found; the second
    value says why Inception is absent."""
    from ..metric import config_at_scale
    from ..registry import get_registry
    from .configs import UnetFdConfig
    from .inception import InceptionFeatures, WeightsNotFound, find_inception_weights
    from .reference import ReferenceUnet

    config = config_at_scale(get_registry().metrics["unet-fd"], scale, dict((metric_config or {}).get("unet-fd", {})))
    assert isinstance(config, UnetFdConfig)
    unet = ReferenceUnet(real_train, config, device)
    spaces = [FeatureSpace("unet", "reference U-Net bottleneck (trained on the real training split)", unet.sha256,
                           unet.features, "unet-bottleneck")]
    try:
        weights = find_inception_weights(inception_weights, download=False)
    except WeightsNotFound as exc:
        return spaces, str(exc)
    inception = InceptionFeatures(weights, device)
    spaces.append(FeatureSpace("inception", "Inception-v3 pool3 (ImageNet; FID's space)", inception.sha256,
                               inception, "inception-pool3"))
    return spaces, None
