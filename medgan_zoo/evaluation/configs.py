"""Config models of the built-in metrics (pydantic only, so discovery stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ..specs import PluginConfig

Source = Literal["synthetic", "original", "augmented original", "original + synthetic"]


class InceptionConfig(PluginConfig):
    weights: Path | None = Field(
        default=None,
        description="Inception weights file (torch-fidelity's weights-inception-2015-12-05-6726825d.pth or "
        "pytorch-fid's pt_inception-...); None: $MEDGAN_ZOO_INCEPTION_WEIGHTS, the torch hub cache, a download.",
    )
    batch_size: int = Field(default=64, ge=1, description="Images per Inception forward pass.")
    split: Literal["train", "val", "test", "all"] = Field(
        default="train", description="Real split to compare against (a sweep sets val).")
    real_samples: int | None = Field(
        default=None, ge=2,
        description="Use this many real images, evenly spaced through the split (None: all of it).",
    )


class FidConfig(InceptionConfig):
    pass


class KidConfig(InceptionConfig):
    subsets: int = Field(default=100, ge=1, description="Random subsets averaged (torch-fidelity: 100).")
    subset_size: int = Field(
        default=1000, ge=2,
        description="Samples per subset; larger than a set: that set's size, with a note (torch-fidelity refuses).",
    )
    seed: int = Field(default=2020, description="Seed of the subset draws (torch-fidelity's default).")


class UnetConfig(PluginConfig):
    encoder: str = Field(default="resnet18", description="segmentation-models-pytorch encoder (no pretrained weights).")
    encoder_depth: int = Field(default=5, ge=3, le=5, description="Encoder stages.")
    decoder_channels: tuple[int, ...] = Field(
        default=(256, 128, 64, 32, 16),
        description="Decoder widths; the last encoder_depth of them are used.",
    )
    steps: int = Field(default=4000, ge=1, description="Optimiser steps, the same for every training source.")
    batch_size: int = Field(default=16, ge=1, description="Pairs per step.")
    lr: float = Field(default=1e-3, gt=0, description="Adam learning rate.")


class DiceConfig(UnetConfig):
    seeds: int = Field(default=3, ge=1, description="Training seeds per source; mean and std are reported.")
    sources: tuple[Source, ...] = Field(
        default=("synthetic", "original", "augmented original", "original + synthetic"),
        description="Training sets: generated pairs, the real train split, it augmented, and both.",
    )
    flip_lr: bool | None = Field(
        default=None,
        description="Left-right flips in 'augmented original'; None: only where anatomy allows (retina).",
    )


class UnetFdConfig(UnetConfig):
    steps: int = Field(default=2000, ge=1, description="Optimiser steps of the reference U-Net (pinned recipe).")
    seed: int = Field(default=0, description="Seed of the reference U-Net (pinned recipe).")
    split: Literal["train", "val", "test", "all"] = Field(
        default="train", description="Real split to compare against (a sweep sets val).")


class PrdcConfig(PluginConfig):
    weights: Path | None = Field(
        default=None, description="Inception weights for features='inception' (as fid.weights; None: the same search).",
    )
    batch_size: int = Field(default=64, ge=1, description="Images per Inception forward pass (features='inception').")
    k: int = Field(default=5, ge=1, description="Nearest neighbours defining each point's radius.")
    features: Literal["unet", "inception", "pixels"] = Field(
        default="unet", description="Feature space: the reference U-Net's bottleneck, Inception pool3, or pixels."
    )
    split: Literal["train", "val", "test", "all"] = Field(
        default="train", description="Real split to compare against (a sweep sets val).")


class MemorisationConfig(PluginConfig):
    features: Literal["pixels", "unet"] = Field(default="pixels", description="Space the distances are taken in.")
    copy_quantile: float = Field(
        default=0.01, gt=0, lt=1,
        description="A sample is a near-copy when its distance to the closest training image is at most the k-th "
        "smallest of the m real test images' distances, k = max(1, floor(copy_quantile (m + 1))): k / (m + 1) of "
        "images drawn like the test ones (reported; about copy_quantile when m is large).",
    )
    pairs: int = Field(default=8, ge=0, description="Closest sample/training pairs saved as an image.")


class ModeCoverageConfig(PluginConfig):
    inputs: Literal["mask", "image+mask", "image"] = Field(
        default="mask", description="What the class classifier sees of each slice: the mask (the anatomy; measured "
        "on acdc-phantom: 65% test accuracy where image+mask overfits each subject's texture, 43%), or the image too.")
    steps: int = Field(default=1000, ge=1, description="Adam steps of the classifier on the real training split.")
    batch_size: int = Field(default=32, ge=1, description="Slices per classifier step.")
    lr: float = Field(default=1e-3, gt=0, description="Adam learning rate of the classifier.")
    width: int = Field(default=16, ge=1, description="Channels of the classifier's first convolution.")
    seed: int = Field(default=0, description="Seed of the classifier (the same network for every model scored).")
    missing_fraction: float = Field(
        default=0.5, ge=0, le=1,
        description="A class counts as missing when the 95% upper bound of its estimated share of the samples "
        "is below this fraction of its share of the real held-out slices.")
    k: int = Field(default=5, ge=1, description="Nearest neighbours of the per-class PRDC.")
    min_per_class: int = Field(
        default=50, ge=2, description="Slices a class needs on both sides for its per-class U-Net FD.")
