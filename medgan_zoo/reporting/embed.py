"""Fig. 6: one UMAP per feature space, real against each model's samples, side by side."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .twosample import TwoSample


@dataclass(frozen=True)
class UmapParams:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    random_state: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def embed(real: np.ndarray, generated: list[np.ndarray], params: UmapParams) -> tuple[np.ndarray, list[np.ndarray]]:
    """One 2-D embedding fitted on every point (so the panels share their axes)."""
    import warnings

    import umap

    points = np.concatenate([real, *generated]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state": the seed wins, as we want
        xy = umap.UMAP(n_neighbors=params.n_neighbors, min_dist=params.min_dist, metric=params.metric,
                       random_state=params.random_state).fit_transform(points)
    cuts = np.cumsum([len(real), *[len(g) for g in generated]])
    parts = np.split(xy, cuts[:-1])
    return parts[0], parts[1:]


def figure(path: Path, title: str, real_xy: np.ndarray, model_xy: list[np.ndarray], labels: list[str],
           tests: list[TwoSample]) -> None:
    """A panel per model: real points (grey) and the model's (colour), the kNN number under it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = len(labels)
    fig, axes = plt.subplots(1, columns, figsize=(3.6 * columns, 3.9), squeeze=False, sharex=True, sharey=True)
    for i, (ax, xy, label, test) in enumerate(zip(axes[0], model_xy, labels, tests, strict=True)):
        ax.scatter(real_xy[:, 0], real_xy[:, 1], s=4, color="0.6", alpha=0.6, label="real", rasterized=True)
        ax.scatter(xy[:, 0], xy[:, 1], s=4, color=f"C{i}", alpha=0.6, label="generated", rasterized=True)
        ax.set_title(label, fontsize=10)
        interval = "" if test.low is None else f" [{test.low:.2f}, {test.high:.2f}]"
        shown = "-" if test.accuracy is None else f"{test.accuracy:.2f}"
        ax.set_xlabel(f"kNN balanced accuracy {shown}{interval}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, loc="upper right", markerscale=2)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
