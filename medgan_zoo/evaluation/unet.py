"""The segmentation U-Net of the Dice protocol and the U-Net feature space (segmentation-models-pytorch)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from .configs import UnetConfig


def build_unet(config: UnetConfig, in_channels: int, classes: int) -> nn.Module:
    """An smp U-Net with randomly initialised encoder (no pretrained weights are downloaded)."""
    import segmentation_models_pytorch as smp

    depth = config.encoder_depth
    decoder = tuple(config.decoder_channels)[-depth:]
    if len(decoder) != depth:
        raise ConfigError(f"decoder_channels needs {depth} widths for encoder_depth={depth}, got {decoder}")
    return smp.Unet(encoder_name=config.encoder, encoder_weights=None, encoder_depth=depth,
                    decoder_channels=decoder, in_channels=in_channels, classes=classes)


#: A U-Net trained for at least this many steps shows its progress (when given a label).
SHOWN_STEPS = 100


def train_unet(images: Tensor, masks: Tensor, config: UnetConfig, classes: int, seed: int,
               device: torch.device, augment=None, label: str | None = None) -> nn.Module:
    """``config.steps`` Adam steps of cross-entropy on random batches of (images, masks);
    ``label``: what the progress line says (shown for runs of ``SHOWN_STEPS`` or more)."""
    from ..distributed import share
    from ..gans.base import joint_from_pairs
    from ..progress import Progress

    if len(images) == 0:
        raise ValueError("no training pairs")
    side = images.shape[-1]
    if side % (2 ** config.encoder_depth):
        raise ConfigError(f"the U-Net with encoder_depth={config.encoder_depth} needs a resolution divisible "
                          f"by {2 ** config.encoder_depth}, got {side}")
    torch.manual_seed(seed)
    model = build_unet(config, images.shape[1], classes).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = torch.Generator(device=device).manual_seed(seed)
    data, target = images.to(device), masks.to(device).long()
    channels = images.shape[1]
    shown = label is not None and config.steps >= SHOWN_STEPS and share()[0] == 0  # rank 0 speaks
    with Progress(config.steps, label or "U-Net", enabled=shown) as bar:
        for step in range(config.steps):
            index = torch.randint(len(data), (config.batch_size,), generator=rng, device=device)
            x, y = data[index], target[index]
            if augment is not None:
                joint = augment(joint_from_pairs(x, y, classes), rng)
                x, y = joint[:, :channels], joint[:, channels:].argmax(dim=1)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update(step + 1)  # a Python counter: no host sync
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, device: torch.device, batch_size: int = 64) -> Tensor:
    """Argmax label maps uint8 [N,H,W] on the CPU."""
    out = [model(images[i:i + batch_size].to(device)).argmax(dim=1).to(torch.uint8).cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out)


@torch.no_grad()
def bottleneck_features(model: nn.Module, images: Tensor, device: torch.device, batch_size: int = 64) -> Tensor:
    """Global-average-pooled deepest encoder features [N, C] (float64, CPU); blocks spread over
    torchrun's ranks while sharing."""
    from ..distributed import map_blocks

    encoder: Any = model.encoder
    return map_blocks(lambda x: encoder(x.to(device))[-1].mean(dim=(2, 3)).double(), images, batch_size)
