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
#: Ends of relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 in torchvision's vgg19().features.
RELU_X_1 = (2, 7, 12, 21, 30)
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def find_vgg_weights(path: Path | None) -> Path:
    """The weights file: ``path`` if given, else torchvision's file in the torch hub cache."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise MedganZooError(f"vgg_weights file {path} does not exist")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE
    if cached.is_file():
        return cached
    raise MedganZooError(
        f"vgg_weight > 0 needs VGG-19 weights: `medgan-zoo weights fetch vgg19` downloads and checks them (or put "
        f"{VGG19_URL} in {cached.parent}, or anywhere and set vgg_weights=PATH); training does not download them"
    )


class VggFeatures(nn.Module):
    """Frozen VGG-19 layers up to ``depth`` (default relu3_1), fed images in [-1, 1] with 1 or 3
    channels, mapped to ImageNet statistics unless ``imagenet_input=False`` (SPADE's loss feeds
    [-1, 1] as it is)."""

    def __init__(self, weights: Path, depth: int = _LAYERS, imagenet_input: bool = True):
        super().__init__()
        from torchvision.models import vgg19

        self.imagenet_input = imagenet_input
        self.layers = vgg19(weights=None).features[:depth]
        try:  # tensors only: a file that would run code when unpickled is refused, in one line
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - pickle.UnpicklingError, EOFError, RuntimeError, OSError ...
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MedganZooError(f"{weights} is not a file of VGG-19 weight tensors (refused to load: "
                                 f"{type(exc).__name__}: {reason[:200]}); use {VGG19_FILE} from {VGG19_URL}") from None
        if not isinstance(state, dict):
            raise MedganZooError(f"{weights} holds a {type(state).__name__}, not a VGG-19 state dict")
        wanted = {k.removeprefix("features."): v for k, v in state.items()
                  if k.startswith("features.") and int(k.split(".")[1]) < depth}
        try:
            self.layers.load_state_dict(wanted, strict=True)
        except RuntimeError as exc:
            raise MedganZooError(f"{weights} is not a VGG-19 state dict: {exc}") from None
        self.requires_grad_(False).eval()
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))

    def _input(self, images: Tensor) -> Tensor:
        if images.shape[1] not in (1, 3):  # each channel a grey image of its own (same folding for real and fake)
            images = images.reshape(-1, 1, *images.shape[2:])
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return ((images + 1) / 2 - self.mean) / self.std if self.imagenet_input else images

    def forward(self, images: Tensor) -> Tensor:
        return self.layers(self._input(images))

    def pyramid(self, images: Tensor, ends: tuple[int, ...] = RELU_X_1) -> list[Tensor]:
        """The outputs of the layers ending at each index of ``ends`` (relu1_1 ... relu5_1)."""
        x, outputs, start = self._input(images), [], 0
        for end in ends:
            x = self.layers[start:end](x)
            outputs.append(x)
            start = end
        return outputs
