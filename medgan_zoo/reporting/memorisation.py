"""The report's memorisation panel: per model, how close its samples lie to their nearest training
image compared with how close real test images lie (the ``memorisation`` metric, shown as the
distribution behind its two numbers), and the closest sample/training pairs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from ..evaluation.configs import MemorisationConfig
from ..evaluation.neighbours import PAIRS_TITLE, NearestTraining, nearest, pairs_grid, pixel_features


class Memorisation:
    """The training side embedded and the test images' distances taken once; :meth:`model` scores
    one model's samples."""

    def __init__(self, train: Any, test: Any, config: MemorisationConfig,
                 unet_features: Callable[[Tensor], Tensor] | None = None):
        self.config, self.train, self.test_subjects = config, train, test.subject_index
        if config.features == "unet":
            if unet_features is None:
                raise ValueError("memorisation.features='unet' needs the report's U-Net feature space")
            self.embed = unet_features
        else:
            self.embed = pixel_features
        self.train_features = self.embed(train.images)
        self.test_distance, _ = nearest(self.embed(test.images), self.train_features)

    def model(self, samples: Any, label: str, slug: str, out: Path) -> dict[str, Any]:
        """The panel's numbers and files for one model: ECDF figure and closest-pairs grid."""
        from ..data.preview import save_grid

        c = self.config
        distance, neighbour = nearest(self.embed(samples.images), self.train_features)
        found = NearestTraining(distance, neighbour, self.test_distance, c.copy_quantile, self.test_subjects)
        figure = f"memorisation_{slug}.png"
        ecdf_figure(out / figure, label, found)
        entry: dict[str, Any] = {**found.summary(), "copy_quantile": c.copy_quantile, "features": c.features,
                                 "samples": len(found.sample_distance), "figure": figure}
        if c.pairs:
            pairs = f"memorisation_pairs_{slug}.png"
            save_grid(pairs_grid(found, samples, self.train, c.pairs), out / pairs, f"{label}: {PAIRS_TITLE}",
                      samples.label_map, scale=max(1, 64 // samples.images.shape[-1]))
            entry["pairs"] = pairs
        return entry


def ecdf_figure(path: Path, label: str, found: NearestTraining) -> None:
    """ECDFs of the nearest-training distance ratios: real test images (grey) and the samples,
    with the near-copy threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples, test = (t.double().numpy() for t in found.ratios())
    threshold = found.threshold / found.scale
    fig, ax = plt.subplots(figsize=(4.4, 3.3))
    for values, name, style in ((test, f"real test images ({len(test)})", {"color": "0.45"}),
                                (samples, f"samples ({len(samples)})", {"color": "C3"})):
        ordered = np.sort(values)
        ax.step(ordered, np.arange(1, len(ordered) + 1) / len(ordered), where="post", label=name, **style)
    ax.axvline(threshold, color="k", linestyle=":", linewidth=1)
    fraction = float(found.near_copies().double().mean())
    ax.set_title(f"{label}\nnear-copies {fraction:.1%} (new images: {found.expected_fraction:.1%})", fontsize=9)
    ax.set_xlabel("distance to nearest training image / real test median", fontsize=8)
    ax.set_ylabel("share of images at or below", fontsize=8)
    positive = np.concatenate([samples, test])
    positive = positive[positive > 0]
    if len(positive) and positive.max() / positive.min() > 20:
        ax.set_xscale("log")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def unet_embedding(spaces: list[Any]) -> Callable[[Tensor], Tensor] | None:
    """The U-Net space's feature function among the report's spaces (None when absent)."""
    for space in spaces:
        if space.name == "unet":
            return space.features
    return None
