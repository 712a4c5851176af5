"""VGG-19 feature statistics for the VGG-loss knob of Table 1.

For unconditional GANs there is no paired target, so, like feature matching, the loss is the
squared distance between the mean VGG-19 features (up to relu3_1) of a real and a generated batch.
Weights come from an explicit file or the torch hub cache; nothing is downloaded during training.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import MedganZooError

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = f"https://download.pytorch.org/models/{VGG19_FILE}"
_LAYERS = 12  # torchvision's vgg19().features[:12] ends with relu3_1
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def find_vgg_weights(path: Path | None) -> Path:
    """The weights file: ``path`` if given, else torchvision's file in the torch hub cache."""
    if path is not None:
        if not Path(path).is_file():
            raise MedganZooError(f"vgg_weights file {path} does not exist")
        return Path(path)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE
    if cached.is_file():
        return cached
    raise MedganZooError(
        f"vgg_weight > 0 needs VGG-19 weights: download {VGG19_URL} to {cached} "
        "(or anywhere, and set vgg_weights=PATH); training does not download them"
    )


class VggFeatures(nn.Module):
    """Frozen VGG-19 layers up to relu3_1, fed images in [-1, 1] with 1 or 3 channels."""

    def __init__(self, weights: Path):
        super().__init__()
        from torchvision.models import vgg19

        self.layers = vgg19(weights=None).features[:_LAYERS]
        state = torch.load(weights, map_location="cpu", weights_only=True)
        wanted = {k.removeprefix("features."): v for k, v in state.items()
                  if k.startswith("features.") and int(k.split(".")[1]) < _LAYERS}
        try:
            self.layers.load_state_dict(wanted, strict=True)
        except RuntimeError as exc:
            raise MedganZooError(f"{weights} is not a VGG-19 state dict: {exc}") from None
        self.requires_grad_(False).eval()
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))

    def forward(self, images: Tensor) -> Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        x = ((images + 1) / 2 - self.mean) / self.std
        return self.layers(x)

    def distance(self, real: Tensor, fake: Tensor) -> Tensor:
        """Squared distance of the batch-mean features (real is treated as a constant)."""
        with torch.no_grad():
            target = self(real).mean(dim=0)
        return (self(fake).mean(dim=0) - target).pow(2).mean()
