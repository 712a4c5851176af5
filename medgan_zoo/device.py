"""The one device default of training, sampling and evaluation."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """The device a user named (None: :func:`default_device`), checked here: an unknown name, or a
    CUDA/MPS device this machine does not have, is one clear error instead of a traceback later."""
    from .errors import ConfigError

    if name is None:
        return default_device()
    if isinstance(name, torch.device):
        device = name
    else:
        try:
            device = torch.device(str(name).strip().lower())
        except RuntimeError:
            raise ConfigError(f"unknown device {name!r}: use cpu, cuda, cuda:N (a GPU by its index) or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r}: this machine has no CUDA GPU that torch can use (no driver, or a "
                              "CPU-only torch); leave --device out (the CPU is then used) or pass --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r}: there are {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"device {name!r}: Apple's MPS is not available here; use cpu")
    return device
