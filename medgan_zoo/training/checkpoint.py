"""Training checkpoints: networks, optimiser states, RNG states and the step, in ONE safetensors
file (the non-tensor state as JSON metadata), written atomically. No pickle."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write
from ..errors import MedganZooError

CHECKPOINT = "last.safetensors"


def _flatten_optimizer(name: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> dict:
    state = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.{name}.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}


def _restore_optimizer(name: str, optimizer: torch.optim.Optimizer, meta: dict,
                       tensors: dict[str, torch.Tensor]) -> None:
    prefix = f"optim.{name}."
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    for pid, entries in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(entries)
    # The implementation flags belong to the device the run resumes on, not the one it was saved on
    # (a fused CUDA Adam resumed on the CPU runs the CPU's implementation).
    groups = [{**saved, **{k: current[k] for k in _DEVICE_FLAGS if k in current}}
              for saved, current in zip(meta["param_groups"], optimizer.param_groups, strict=True)]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


_DEVICE_FLAGS = ("fused", "foreach", "capturable")


def save_checkpoint(path: Path, gan, step: int, rng: torch.Generator, extra: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name, module in gan.networks():
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
    optimizers = {name: _flatten_optimizer(name, opt, tensors) for name, opt in gan.optimizers.items()}
    tensors["rng.engine"] = rng.get_state().contiguous()
    tensors["rng.torch"] = torch.get_rng_state().contiguous()
    meta = {"step": step, "optimizers": optimizers, "rng_device": rng.device.type, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp),
                                             metadata={"medgan_zoo_checkpoint": json.dumps(meta, default=str)}))


def read_checkpoint_meta(path: Path) -> dict[str, Any]:
    """A checkpoint's metadata alone (no tensor is read)."""
    return _read(path, tensors=False)[1]


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    return _read(path, tensors=True)


def _read(path: Path, tensors: bool) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["medgan_zoo_checkpoint"])
            read = {key: handle.get_tensor(key) for key in handle.keys()} if tensors else {}
    except Exception as exc:
        raise MedganZooError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from None
    return read, meta


def restore_checkpoint(tensors: dict[str, torch.Tensor], meta: dict[str, Any], gan, rng: torch.Generator,
                       source: Path) -> int:
    """Load networks, optimisers and RNG states; returns the step the checkpoint was taken at."""
    from ..model import load_networks

    networks = {k: v for k, v in tensors.items() if not k.startswith(("optim.", "rng."))}
    load_networks(gan, networks, source)  # every network, discriminators included
    for name, optimizer in gan.optimizers.items():
        _restore_optimizer(name, optimizer, meta["optimizers"][name], tensors)
    restore_engine_rng(rng, tensors["rng.engine"], meta.get("rng_device"), source)
    torch.set_rng_state(tensors["rng.torch"])
    return int(meta["step"])


def restore_engine_rng(rng: torch.Generator, state: torch.Tensor, saved_on: str | None, source: Path) -> None:
    """Continue the engine's random stream, or start a new one when the run moved between device
    types: a CUDA generator's state (a Philox seed and offset) cannot drive a CPU generator (a
    Mersenne Twister) nor the reverse. The new stream is seeded from the saved state, so resuming
    the same checkpoint on the same device type twice gives the same run."""
    if saved_on is None:  # checkpoints of 0.1.0: tell the types apart by the state's size
        saved_on = "cpu" if state.numel() == torch.Generator().get_state().numel() else "cuda"
    if saved_on == rng.device.type:
        rng.set_state(state)
        return
    seed = int.from_bytes(hashlib.sha256(state.numpy().tobytes()).digest()[:8], "little")
    rng.manual_seed(seed)
    warnings.warn(f"{source}: the run was saved on {saved_on} and resumes on {rng.device.type}; the engine's "
                  "random stream (batches, noise, augmentation) continues as a new stream from here",
                  stacklevel=3)
