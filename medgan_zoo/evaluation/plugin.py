"""The built-in metrics, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from ..hookspecs import Register, hookimpl
from ..specs import MetricSpec
from . import configs

_PKG = "medgan_zoo.evaluation"
_UNET_QUICK = {"steps": 150, "encoder_depth": 3, "decoder_channels": [32, 16, 8], "batch_size": 16}


@hookimpl
def register_metrics(register: Register) -> None:
    register(MetricSpec(
        name="fid", better="lower", config=configs.FidConfig, factory=f"{_PKG}.fid:FidMetric", column="FID",
        default=True, available=f"{_PKG}.inception:weights_missing",
        summary="Frechet Inception Distance with torch-fidelity's Inception (image channels only).",
    ))
    register(MetricSpec(
        name="kid", better="lower", config=configs.KidConfig, factory=f"{_PKG}.fid:KidMetric", column="KID",
        quick={"subsets": 20, "subset_size": 100},
        summary="Kernel Inception Distance (unbiased MMD^2, cubic kernel) over random subsets.",
    ))
    register(MetricSpec(
        name="dice", better="higher", config=configs.DiceConfig, factory=f"{_PKG}.dice:DiceMetric",
        # the protocol's decoder widths: at the same wall time as 32-16-8 they cut the spread over seeds
        # five-fold (docs/evaluation.md, "Dice at the quick scale")
        column="U-Net Dice", default=True, quick={**_UNET_QUICK, "decoder_channels": [64, 32, 16], "seeds": 1},
        study={"sources": ["synthetic", "original + synthetic"]},
        baseline={"sources": ["original", "augmented original"]},
        summary="Dice on the real test split of a U-Net trained on generated pairs (paper Table 2).",
    ))
    register(MetricSpec(
        name="unet-fd", better="lower", config=configs.UnetFdConfig, factory=f"{_PKG}.reference:UnetFdMetric",
        column="U-Net FD", default=True, quick=_UNET_QUICK,
        summary="Frechet distance in a reference U-Net's bottleneck (medical features, no downloads).",
    ))
    register(MetricSpec(
        name="prdc", better="higher", config=configs.PrdcConfig, factory=f"{_PKG}.neighbours:PrdcMetric",
        column="coverage",
        summary="Precision, recall, density and coverage in a chosen feature space.",
    ))
    register(MetricSpec(
        name="mode-coverage", better="lower", config=configs.ModeCoverageConfig,
        factory=f"{_PKG}.coverage:ModeCoverageMetric", column="class TVD", quick={"steps": 600},
        summary="Are all of the data set's classes (ACDC's pathologies) generated, in the real proportions? "
        "Class shares corrected for a classifier's errors against the held-out slices' (total variation).",
    ))
    register(MetricSpec(
        name="memorisation", better="lower", config=configs.MemorisationConfig,
        factory=f"{_PKG}.neighbours:MemorisationMetric", column="near-copies", default=True, every_study=True,
        summary="Nearest-training-image distances of samples; fraction of near-copies; closest pairs image.",
    ))
