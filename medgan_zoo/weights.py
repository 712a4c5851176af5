"""Weight tensors into a GAN's networks: strict about names, shapes, dtypes and values."""

from __future__ import annotations

from pathlib import Path

import torch

from .errors import MedganZooError
from .gans.base import training_only
from .handover import check_tensors


class ModelLoadError(MedganZooError):
    """A model folder that is missing, corrupt, or names a GAN that is not installed."""


def load_networks(gan, tensors: dict[str, torch.Tensor], source: Path, sampling_only: bool = False,
                  allow_nan: bool = False) -> None:
    """Load ``name.key`` tensors into the GAN's networks, strictly (missing or extra is an error);
    ``sampling_only`` leaves the discriminators out (model files do not hold them)."""
    networks = {name: module for name, module in gan.networks() if not (sampling_only and training_only(name))}
    unknown = sorted({k.split(".", 1)[0] for k in tensors} - set(networks))
    if unknown:
        raise ModelLoadError(f"{source}: unexpected tensors for {unknown}")
    check_tensors(networks, tensors, source, allow_nan)
    for name, module in networks.items():
        prefix = f"{name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise ModelLoadError(f"{source}: the {name} weights do not match {gan.config.__class__.__name__}: "
                                 f"{' '.join(first[:3])}") from None


__all__ = ["ModelLoadError", "load_networks"]
