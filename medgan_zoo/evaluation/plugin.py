"""The built-in metrics, registered through the project's own ``medgan_zoo`` entry point."""

from __future__ import annotations

from ..hookspecs import Register, hookimpl
from ..specs import MetricSpec
from . import configs

_PKG = "medgan_zoo.evaluation"


@hookimpl
def register_metrics(register: Register) -> None:
    register(MetricSpec(
        name="fid", better="lower", config=configs.FidConfig, factory=f"{_PKG}.fid:FidMetric",
        summary="Frechet Inception Distance with torch-fidelity's Inception (image channels only).",
    ))
    register(MetricSpec(
        name="kid", better="lower", config=configs.KidConfig, factory=f"{_PKG}.fid:KidMetric",
        summary="Kernel Inception Distance (unbiased MMD^2, cubic kernel) over random subsets.",
    ))
    register(MetricSpec(
        name="dice", better="higher", needs_masks=True, needs_test_split=True, config=configs.DiceConfig,
        factory=f"{_PKG}.dice:DiceMetric",
        summary="Dice on the real test split of a U-Net trained on generated pairs (paper Table 2).",
    ))
    register(MetricSpec(
        name="unet-fd", better="lower", needs_masks=True, config=configs.UnetFdConfig,
        factory=f"{_PKG}.reference:UnetFdMetric",
        summary="Frechet distance in a reference U-Net's bottleneck (medical features, no downloads).",
    ))
    register(MetricSpec(
        name="prdc", better="higher", config=configs.PrdcConfig, factory=f"{_PKG}.neighbours:PrdcMetric",
        summary="Precision, recall, density and coverage in a chosen feature space.",
    ))
    register(MetricSpec(
        name="memorisation", better="lower", needs_test_split=True, config=configs.MemorisationConfig,
        factory=f"{_PKG}.neighbours:MemorisationMetric",
        summary="Nearest-training-image distances of samples; fraction of near-copies; closest pairs image.",
    ))
