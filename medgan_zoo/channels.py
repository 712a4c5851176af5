"""Images with any number of channels, shown or fed to networks that take grey or RGB."""

from __future__ import annotations

from torch import Tensor


def viewable(images: Tensor) -> Tensor:
    """[N, C, H, W] as [N, 1 or 3, H, W]: grey and RGB as they are; any other channel count (an MR data
    set's T2 + ADC, BraTS's four sequences) by its first channel, the one previews, Turing-test
    images and ImageNet-trained feature networks see (docs/fidelity.md)."""
    return images if images.shape[1] in (1, 3) else images[:, :1]
