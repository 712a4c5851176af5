"""A reference U-Net trained on the real training split with a pinned recipe; its bottleneck is a
medical feature space that needs no downloaded weights (answers the paper's Fig. 6). The weights'
sha256 is part of the feature cache key and of every number reported with it."""

from __future__ import annotations

import hashlib
import json

import torch
from torch import Tensor

from ..atomic import atomic_write
from ..data.cache import cache_root
from ..distributed import from_rank_zero
from ..hub import sha256_of
from ..metric_result import MetricResult
from .configs import UnetFdConfig
from .feature_cache import cached_features
from .sample_size import frechet_sizes
from .statistics import frechet_distance_of
from .unet import bottleneck_features, build_unet, train_unet


class ReferenceUnet:
    """Trained once per (data split, recipe) and cached as safetensors."""

    def __init__(self, real, config: UnetFdConfig, device: torch.device):
        from safetensors.torch import load_file, save_file

        self.config, self.device = config, device
        self.recipe = json.loads(config.model_dump_json(exclude={"split"}))
        material = {"data": real.info.get("cache_key"), "dataset": real.name, "recipe": self.recipe}
        key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]
        path = cache_root() / "reference-unet" / f"{key}.safetensors"
        classes = len(real.label_map)
        self.model = build_unet(config, real.images.shape[1], classes).to(device)

        def trained_or_cached() -> tuple[dict[str, Tensor], str]:
            if path.exists():
                return load_file(str(path)), sha256_of(path)
            trained = train_unet(real.images, real.masks, config, classes, config.seed, device,
                                 label="reference U-Net on the real pairs (U-Net features; trained once, cached)")
            path.parent.mkdir(parents=True, exist_ok=True)
            state = {k: v.detach().cpu().contiguous() for k, v in trained.state_dict().items()}
            atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={"recipe": json.dumps(material)}))
            return state, sha256_of(path)

        # under torchrun rank 0 trains (or loads) it and every rank gets those very weights
        state, self.sha256 = from_rank_zero(trained_or_cached)
        self.model.load_state_dict(state, strict=True)
        self.model.eval()

    def features(self, images: Tensor) -> Tensor:
        return bottleneck_features(self.model, images, self.device)

    def real_features(self, real) -> Tensor:
        return cached_features(real, f"unet-bottleneck:{self.sha256}", lambda: self.features(real.images))


class UnetFdMetric:
    def __init__(self, config: UnetFdConfig):
        self.config = config

    def estimate(self, probe) -> float:
        """Seconds to train the reference U-Net (nothing once it is cached; the estimate does not look)."""
        from .estimate import unet_step_seconds

        return unet_step_seconds(self.config, probe) * self.config.steps

    def __call__(self, ctx) -> MetricResult:
        reference = ctx.reference_unet(self.config)
        real = reference.real_features(ctx.real(self.config.split))
        fake = reference.features(ctx.samples.images)
        values = {"unet_fd": frechet_distance_of(real, fake), **frechet_sizes(len(fake), len(real), real.shape[1]),
                  "real_split": self.config.split,
                  "reference_unet_sha256": reference.sha256, "recipe": reference.recipe}
        return MetricResult(values=values, headline="unet_fd", reference={"unet_fd": 0.0})
