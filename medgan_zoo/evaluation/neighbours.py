"""Nearest-neighbour metrics: precision/recall/density/coverage, and memorisation (how close each
sample is to its nearest training image; FID cannot see a GAN that copies its training set)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..metric import MetricResult
from .configs import MemorisationConfig, PrdcConfig, UnetFdConfig
from .statistics import FeatureAccumulator, prdc


def pixel_features(images: Tensor, side: int = 32) -> Tensor:
    """Images downsampled to at most ``side`` pixels (area averaging), flattened, float64."""
    x = images.float()
    if x.shape[-1] > side:
        x = F.adaptive_avg_pool2d(x, side)
    return x.flatten(1).double()


def nearest(queries: Tensor, references: Tensor, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """Distance to and index of each query's nearest reference (Euclidean)."""
    distances, indices = [], []
    for i in range(0, len(queries), chunk):
        d = torch.cdist(queries[i:i + chunk], references)
        value, index = d.min(dim=1)
        distances.append(value)
        indices.append(index)
    return torch.cat(distances), torch.cat(indices)


def _space(ctx, name: str, config: PrdcConfig | None = None):
    if name == "pixels":
        return pixel_features, pixel_features
    if name == "inception":
        from .inception import InceptionFeatures

        c = config or PrdcConfig()
        extractor = InceptionFeatures(c.weights, ctx.device, c.batch_size)
        return extractor, extractor
    reference = ctx.reference_unet(ctx.metric_config("unet-fd", UnetFdConfig))
    return reference.features, reference.features


class PrdcMetric:
    def __init__(self, config: PrdcConfig):
        self.config = config

    def __call__(self, ctx) -> MetricResult:
        real_images = ctx.real(self.config.split).images
        embed_real, embed_fake = _space(ctx, self.config.features, self.config)
        result = prdc(embed_real(real_images), embed_fake(ctx.samples.images), self.config.k)
        values = {**result, "k": self.config.k, "features": self.config.features, "real_split": self.config.split}
        return MetricResult(values=values, headline="coverage", shown=("precision", "recall", "density", "coverage"))


@dataclass
class NearestTraining:
    """Each sample's and each real test image's distance to its nearest training image (and the
    sample's neighbour). A sample is a near-copy when its distance is at most the k-th smallest of
    the m test images', k = max(1, floor(quantile (m + 1))): a sample drawn like the test images is
    one with probability k / (m + 1) (:attr:`expected_fraction`), which is ``quantile`` only when
    m is large."""

    sample_distance: Tensor
    sample_neighbour: Tensor
    test_distance: Tensor
    quantile: float
    test_subjects: Tensor | None = None

    @property
    def scale(self) -> float:
        """The real test images' median distance: the unit of the ratios (NaN when it is 0: every
        test image a duplicate of a training image leaves no unit)."""
        return float(self.test_distance.median()) or float("nan")

    @property
    def rank(self) -> int:
        return max(1, math.floor(self.quantile * (len(self.test_distance) + 1)))

    @property
    def threshold(self) -> float:
        return float(self.test_distance.sort().values[self.rank - 1])

    @property
    def expected_fraction(self) -> float:
        """The near-copy fraction of a model whose samples are exchangeable with the test images."""
        return self.rank / (len(self.test_distance) + 1)

    def ratios(self) -> tuple[Tensor, Tensor]:
        """Samples' and test images' distances over the test images' median (theirs: median 1)."""
        return self.sample_distance / self.scale, self.test_distance / self.scale

    def near_copies(self) -> Tensor:
        """Which samples lie at most as far from a training image as the k-th closest test image."""
        return self.sample_distance <= self.threshold

    def test_near_copy_fraction(self) -> float | None:
        """The real test images' own near-copy rate, each subject against the threshold of the other
        subjects' images (their slices are not independent, so this is the rate for images of an
        unseen subject); None without subjects or with fewer than 2."""
        if self.test_subjects is None or len(torch.unique(self.test_subjects)) < 2:
            return None
        names, subject = torch.unique(self.test_subjects, return_inverse=True)
        sizes = torch.bincount(subject, minlength=len(names))
        m_other = len(subject) - sizes  # per subject: the others' k-th smallest distance is its threshold
        k = torch.clamp(torch.floor(self.quantile * (m_other + 1).double()).long(), min=1)
        order = self.test_distance.argsort()
        head = int(k.max() + sizes.max())  # the k-th of the others lies among the first k + own positions
        first = subject[order][:head]
        others = (first[None, :] != torch.arange(len(names))[:, None]).long().cumsum(dim=1)
        position = (others >= k[:, None]).long().argmax(dim=1)
        threshold = self.test_distance[order][:head][position]
        return float((self.test_distance <= threshold[subject]).double().mean())

    def closest(self, count: int) -> Tensor:
        """The ``count`` samples nearest a training image, nearest first."""
        return self.sample_distance.argsort()[:count]

    def summary(self) -> dict[str, float | int | None]:
        median = float(self.sample_distance.median())
        subjects = None if self.test_subjects is None else len(torch.unique(self.test_subjects))
        return {"nn_distance_median": median, "real_test_nn_distance_median": float(self.test_distance.median()),
                "ratio": median / self.scale,
                "near_copy_threshold": self.threshold, "near_copy_fraction": float(self.near_copies().double().mean()),
                "expected_near_copy_fraction": self.expected_fraction,
                "real_test_near_copy_fraction": self.test_near_copy_fraction(),
                "test_images": len(self.test_distance), "test_subjects": subjects}


def nearest_training(train: Tensor, test: Tensor, samples: Tensor, quantile: float,
                     test_subjects: Tensor | None = None) -> NearestTraining:
    """Distances to the nearest training image in one feature space (features as rows)."""
    sample_d, sample_i = nearest(samples, train)
    test_d, _ = nearest(test, train)
    return NearestTraining(sample_d, sample_i, test_d, quantile, test_subjects)


def pairs_grid(found: NearestTraining, samples: Any, train: Any, count: int) -> np.ndarray:
    """The ``count`` closest pairs as an overlay grid: each sample beside its nearest training image."""
    from ..data.preview import overlay_grid

    order = found.closest(count)
    images = torch.stack([t for i in order for t in (samples.images[i], train.images[found.sample_neighbour[i]])])
    masks = torch.stack([t for i in order for t in (samples.masks[i], train.masks[found.sample_neighbour[i]])])
    return overlay_grid(images, masks, columns=2)


PAIRS_TITLE = "closest pairs: generated sample | its nearest training image"


class MemorisationMetric:
    def __init__(self, config: MemorisationConfig):
        self.config = config

    def __call__(self, ctx) -> MetricResult:
        c = self.config
        train, test = ctx.real("train"), ctx.real(ctx.eval_split)
        embed, _ = _space(ctx, c.features)
        found = nearest_training(embed(train.images), embed(test.images), embed(ctx.samples.images), c.copy_quantile,
                                 getattr(test, "subject_index", None))
        result: dict = {**found.summary(), "features": c.features}
        if c.pairs and ctx.out is not None:
            from ..data.preview import save_grid

            path = ctx.out / "memorisation_pairs.png"
            ctx.out.mkdir(parents=True, exist_ok=True)
            save_grid(pairs_grid(found, ctx.samples, train, c.pairs), path, PAIRS_TITLE, train.label_map)
            result["pairs_image"] = path.name
        # what a model drawing images like the real test ones scores: k / (m + 1), and a ratio of 1
        return MetricResult(values=result, headline="near_copy_fraction", shown=("near_copy_fraction", "ratio"),
                            reference={"near_copy_fraction": found.expected_fraction, "ratio": 1.0})


class PrecisionRecallDensityCoverage(FeatureAccumulator):
    """torchmetrics-style PRDC: ``update(images, real=...)`` in batches, then ``compute()``.

    ``embed`` maps images to feature vectors (default: 32x32 pixels; pass e.g. an
    ``InceptionFeatures`` or a ``ReferenceUnet(...).features``)."""

    def __init__(self, k: int = 5, embed=pixel_features):
        self.k = k
        super().__init__(embed)

    def compute(self) -> dict[str, float]:
        return prdc(*self._sets(), self.k)
