"""FID and KID: functions for two image sets, torchmetrics-style accumulators, and the metric plugins."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from ..metric import MetricResult
from .configs import FidConfig, KidConfig
from .inception import InceptionFeatures
from .sample_size import frechet_sizes
from .statistics import FeatureAccumulator, frechet_distance, kernel_distance, mean_and_covariance


def _as_images(x: Any) -> Tensor:
    """A tensor of images from a tensor, a Samples object or a SliceDataset."""
    return x if torch.is_tensor(x) else x.images


def compute_fid(a: Any, b: Any, weights: str | None = None, device: str | None = None,
                batch_size: int = 64) -> float:
    """FID between two image sets (tensors [N,C,H,W] as uint8 or [-1, 1] float, Samples, datasets)."""
    features = InceptionFeatures(weights, device, batch_size)
    fa, fb = features(_as_images(a)), features(_as_images(b))
    return frechet_distance(*mean_and_covariance(fa), *mean_and_covariance(fb))


def compute_kid(a: Any, b: Any, weights: str | None = None, device: str | None = None, batch_size: int = 64,
                subsets: int = 100, subset_size: int = 1000, seed: int = 2020) -> tuple[float, float]:
    """KID (mean, std over subsets) between two image sets; pass the generated set as ``a`` to draw
    torch-fidelity's subsets (its ``input1``)."""
    features = InceptionFeatures(weights, device, batch_size)
    return kernel_distance(features(_as_images(a)), features(_as_images(b)), subsets, subset_size, seed)


class _InceptionAccumulator(FeatureAccumulator):
    """Collect Inception features of real and generated batches; ``compute()`` when done."""

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 64):
        super().__init__(InceptionFeatures(weights, device, batch_size))


class FrechetInceptionDistance(_InceptionAccumulator):
    """FID accumulator: ``update(images, real=...)`` in any number of batches, then ``compute()``."""

    def compute(self) -> float:
        real, fake = self._sets()
        return frechet_distance(*mean_and_covariance(real), *mean_and_covariance(fake))


class KernelInceptionDistance(_InceptionAccumulator):
    """KID accumulator; ``compute()`` returns (mean, std) over random subsets."""

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 64,
                 subsets: int = 100, subset_size: int = 1000, seed: int = 2020):
        super().__init__(weights, device, batch_size)
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed

    def compute(self) -> tuple[float, float]:
        real, fake = self._sets()
        return kernel_distance(fake, real, self.subsets, self.subset_size, self.seed)


def _features(ctx, config) -> tuple[Tensor, Tensor, InceptionFeatures]:
    from .feature_cache import cached_features

    extractor = InceptionFeatures(config.weights, ctx.device, config.batch_size)
    real = ctx.real(config.split)
    images, key = real.images, f"inception-pool3:{extractor.sha256}"
    if config.real_samples and config.real_samples < len(images):
        images = images[torch.linspace(0, len(images) - 1, config.real_samples).round().long()]
        key += f":evenly-{config.real_samples}"
    real_features = cached_features(real, key, lambda: extractor(images))
    return real_features, extractor(ctx.samples.images), extractor


def _estimate_inception(config, probe) -> float:
    """Seconds of Inception features for the samples and the real images (an upper bound on the latter,
    which are cached), from a timed batch through an extractor of the same architecture."""
    from .estimate import seconds_per_call
    from .inception import _bare_extractor

    model = _bare_extractor().eval().to(probe.device)
    batch = torch.zeros(min(config.batch_size, 8), 3, probe.resolution, probe.resolution, dtype=torch.uint8,
                        device=probe.device)
    with torch.no_grad():
        per_image = seconds_per_call(lambda: model(batch), 1) / len(batch)
    real = config.real_samples or probe.samples
    return per_image * (probe.samples + real)


class FidMetric:
    def __init__(self, config: FidConfig):
        self.config = config

    def estimate(self, probe) -> float:
        return _estimate_inception(self.config, probe)

    def __call__(self, ctx) -> MetricResult:
        real, fake, extractor = _features(ctx, self.config)
        value = frechet_distance(*mean_and_covariance(real), *mean_and_covariance(fake))
        values = {"fid": value, **frechet_sizes(len(fake), len(real), real.shape[1]), "real_split": self.config.split,
                  "weights": extractor.weights.name, "weights_sha256": extractor.sha256}
        return MetricResult(values=values, headline="fid", reference={"fid": 0.0})


class KidMetric:
    def __init__(self, config: KidConfig):
        self.config = config

    def estimate(self, probe) -> float:
        return _estimate_inception(self.config, probe)

    def __call__(self, ctx) -> MetricResult:
        c = self.config
        real, fake, extractor = _features(ctx, c)
        subset_size = min(c.subset_size, len(fake), len(real))
        values: dict = {}
        if subset_size < c.subset_size:
            values["note"] = (f"subset_size {c.subset_size} is larger than the sets ({len(fake)} generated, "
                              f"{len(real)} real): subsets of {subset_size} were used (KID stays unbiased; its "
                              "spread grows); pass more samples or kid.subset_size to choose")
        try:  # generated first, as torch-fidelity's calculate_metrics(input1=generated, input2=real)
            mean, std = kernel_distance(fake, real, c.subsets, subset_size, c.seed)
        except ValueError as exc:
            raise ConfigError(f"kid: {exc} (kid.subset_size)") from None
        values = {"kid": mean, "kid_std": std, "subset_size": subset_size, "subsets": c.subsets,
                  "n_generated": len(fake), "n_real": len(real), "weights_sha256": extractor.sha256, **values}
        return MetricResult(values=values, headline="kid", std="kid_std", reference={"kid": 0.0})
