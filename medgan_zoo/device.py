"""The one device default of training, sampling and evaluation."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
