"""The paper's task-based protocol: a U-Net trained on generated (or real) pairs, scored on the real
test split by Dice per volume (a phase of an exam for ACDC, a scan for SLiver07, an image for IDRiD)
and class, then averaged."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from ..metric import Cell, MetricResult
from .configs import DiceConfig


def dice_scores(pred: Tensor, truth: Tensor, volumes: Sequence[str], num_classes: int) -> dict[str, Any]:
    """Dice per volume and class (background excluded; a class absent from both prediction and
    truth of a volume is skipped for it), averaged over volumes; and pooled over all pixels.

    ``volumes`` names each slice's volume: the slices of one volume are scored together (3D Dice)."""
    if pred.shape != truth.shape or len(volumes) != len(pred):
        raise ValueError(f"prediction {tuple(pred.shape)}, truth {tuple(truth.shape)} and {len(volumes)} "
                         "volume ids must agree")
    per_volume: dict[str, dict[int, float]] = {}
    for volume in dict.fromkeys(volumes):
        index = torch.tensor([i for i, v in enumerate(volumes) if v == volume])
        p, t = pred[index], truth[index]
        scores = {}
        for c in range(1, num_classes):
            pc, tc = p == c, t == c
            total = int(pc.sum() + tc.sum())
            if total:
                scores[c] = 2 * int((pc & tc).sum()) / total
        per_volume[volume] = scores
    per_class = {}
    for c in range(1, num_classes):
        values = [s[c] for s in per_volume.values() if c in s]
        per_class[c] = sum(values) / len(values) if values else float("nan")
    subject_means = [sum(s.values()) / len(s) for s in per_volume.values() if s]
    pooled = {}
    for c in range(1, num_classes):
        pc, tc = pred == c, truth == c
        total = int(pc.sum() + tc.sum())
        pooled[c] = 2 * int((pc & tc).sum()) / total if total else float("nan")
    defined = [v for v in pooled.values() if v == v]
    return {
        "dice": sum(subject_means) / len(subject_means) if subject_means else float("nan"),
        "per_class": per_class,
        "pooled": sum(defined) / len(defined) if defined else float("nan"),
        "pooled_per_class": pooled,
        "volumes": len(per_volume),
    }


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation; no deviation (None) from a single value."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


class DiceMetric:
    """Train a U-Net per source and seed for the same number of steps; score on the real test split."""

    def __init__(self, config: DiceConfig):
        self.config = config

    def _training_set(self, source: str, ctx) -> tuple[Tensor, Tensor]:
        real = ctx.real("train")
        if source == "synthetic":
            return ctx.samples.images, ctx.samples.masks
        if source == "original + synthetic":
            return (torch.cat([real.images, ctx.samples.images]), torch.cat([real.masks, ctx.samples.masks]))
        return real.images, real.masks

    def _augment(self, source: str, ctx):
        if source != "augmented original":
            return None
        from ..training.augment import PairAugment

        flip = self.config.flip_lr
        if flip is None:  # only where the anatomy has no side that matters
            flip = ctx.dataset.startswith("idrid")
        return PairAugment(ctx.samples.images.shape[1], rotate=15, translate=0.1, scale=0.1, flip_lr=flip)

    def estimate(self, probe) -> float:
        """Seconds: every source's U-Nets (steps x seeds), from a timed U-Net step."""
        from .estimate import unet_step_seconds

        c = self.config
        return unet_step_seconds(c, probe) * c.steps * c.seeds * len(c.sources)

    def __call__(self, ctx) -> MetricResult:
        from .unet import predict, train_unet

        c = self.config
        test = ctx.real(ctx.eval_split)
        if test.info.get("masks") is False:
            raise ConfigError(f"dice: {ctx.dataset} was loaded without masks (masks=false); the Dice protocol "
                              "trains and scores a U-Net on image/mask pairs")
        classes = len(test.label_map)
        volumes = [test.volume_ids[i] for i in test.volume_index.tolist()]

        groups = [(name, (test.group_index == g).nonzero().flatten()) for g, name in enumerate(test.group_names)]

        def score(job: tuple[str, int]) -> dict[str, Any]:
            source, seed = job
            images, masks = self._training_set(source, ctx)
            model = train_unet(images, masks, c, classes, seed, ctx.device, self._augment(source, ctx),
                               label=f"dice: U-Net on the {source} pairs (seed {seed})")
            predicted = predict(model, test.images, ctx.device)
            scores = dice_scores(predicted, test.masks, volumes, classes)
            # a data set with classes: the Dice of each class's test volumes too
            scores["per_group"] = {name: dice_scores(predicted[rows], test.masks[rows],
                                                     [volumes[i] for i in rows.tolist()], classes)["dice"]
                                   for name, rows in groups if len(rows)}
            return scores

        # every (source, seed) U-Net is independent: under torchrun the ranks share them
        scores = ctx.map_jobs(score, [(source, seed) for source in c.sources for seed in range(c.seeds)])
        results: dict[str, Any] = {}
        for k, source in enumerate(c.sources):
            images, _ = self._training_set(source, ctx)
            runs = scores[k * c.seeds:(k + 1) * c.seeds]
            dice, dice_std = _mean_std([r["dice"] for r in runs])
            pooled, _ = _mean_std([r["pooled"] for r in runs])
            results[source] = {
                "dice": dice, "dice_std": dice_std, "pooled": pooled,
                "per_class": {test.label_map[k]: _mean_std([r["per_class"][k] for r in runs])[0]
                              for k in range(1, classes)},
                "training_pairs": len(images),
                **({"per_group": {name: _mean_std([r["per_group"][name] for r in runs])[0]
                                  for name in runs[0]["per_group"]}} if runs[0]["per_group"] else {}),
            }
        headline = results.get("synthetic", next(iter(results.values())))
        values = {"dice": headline["dice"], "dice_std": headline["dice_std"], "sources": results,
                  "steps": c.steps, "seeds": c.seeds, "split": ctx.eval_split, "test_subjects": len(test.subject_ids),
                  "test_volumes": len(test.volume_ids), "encoder": c.encoder}
        # every other source is a row of its own: "original", "original + {model}"
        rows = {source.replace("synthetic", "{model}"): Cell.model_validate(
                    {"value": r["dice"], "std": r["dice_std"], "pooled": r["pooled"],
                     "training_pairs": r["training_pairs"]})
                for source, r in results.items() if source != "synthetic"}
        reference = {"dice": results["original"]["dice"]} if "original" in results else {}
        return MetricResult(values=values, headline="dice", std="dice_std", reference=reference, rows=rows,
                            shown=("dice", "dice_std", "seeds"))
