"""Checks where a value from a plugin's code, or from a file, enters the core.

Each failure names what handed the value over (the plugin's kind, name, distribution and version,
or the file and tensor) and what was expected against what came. Checks that would make the device
wait (``isfinite`` on every training step) are left to the places that already wait: sampling and
loading do them, training's divergence check watches the losses.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .errors import MedganZooError


class PluginOutputError(MedganZooError, ValueError):
    """A plugin returned something that breaks its contract, or raised; the message names it."""


class WeightsError(MedganZooError, ValueError):
    """A weights file holds a tensor of the wrong dtype, or NaN/infinite values."""


def gan_label(info: Any) -> str:
    """``GAN 'dcgan' (medgan-zoo 0.1.0)`` from a model's :class:`~medgan_zoo.model_info.ModelInfo`."""
    return f"GAN {info.gan!r} ({info.plugin_distribution} {info.plugin_version})"


def check_generated(output: Any, label: str, count: int, channels: int, resolution: int,
                    allow_nan: bool = False) -> None:
    """``generate``'s output: a floating tensor [count, channels, resolution, resolution], finite
    (``allow_nan``: NaN passes, for looking at a broken model)."""
    expected = f"[{count}, {channels}, {resolution}, {resolution}]"
    if not isinstance(output, Tensor):
        raise PluginOutputError(f"{label}: generate returned {type(output).__name__}, expected a tensor {expected}")
    if tuple(output.shape) != (count, channels, resolution, resolution):
        raise PluginOutputError(f"{label}: generate returned shape {list(output.shape)}, expected {expected} (image "
                                "channels then one-hot mask channels, at the model's resolution)")
    if not output.is_floating_point():
        raise PluginOutputError(f"{label}: generate returned {output.dtype}, expected a floating tensor in [-1, 1]")
    if not allow_nan and not bool(torch.isfinite(output).all()):
        raise PluginOutputError(f"{label}: generate returned NaN or infinite values (a diverged model?); "
                                "--allow-nan (allow_nan=True) writes them anyway, to look at")
    peak = float(output.detach().abs().nan_to_num(0.0).max()) if output.numel() else 0.0
    if peak > 2.0:
        warnings.warn(f"{label}: generate returned values up to {peak:.3g} where images are in [-1, 1] (no tanh?); "
                      "they are clipped", stacklevel=3)


def check_pairs(images: Any, masks: Any, label: str, count: int, channels: int, resolution: int, classes: int,
                allow_nan: bool = False) -> None:
    """``to_pairs``'s result (plugins may override it): images [count, C, R, R] floating in [-1, 1],
    masks [count, R, R] of integer labels within the label map."""
    if not isinstance(images, Tensor) or tuple(images.shape) != (count, channels, resolution, resolution) \
            or not images.is_floating_point():
        got = list(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise PluginOutputError(f"{label}: to_pairs returned images {got}, expected floating "
                                f"[{count}, {channels}, {resolution}, {resolution}] in [-1, 1]")
    finite = images.nan_to_num(0.0) if allow_nan else images
    if images.numel() and (float(finite.min()) < -1.001 or float(finite.max()) > 1.001):
        raise PluginOutputError(f"{label}: to_pairs returned images in [{float(finite.min()):.3g}, "
                                f"{float(finite.max()):.3g}], expected [-1, 1]")
    if not isinstance(masks, Tensor) or tuple(masks.shape) != (count, resolution, resolution) \
            or masks.is_floating_point():
        got = f"{list(masks.shape)} {masks.dtype}" if isinstance(masks, Tensor) else type(masks).__name__
        raise PluginOutputError(f"{label}: to_pairs returned masks {got}, expected integer [{count}, {resolution}, "
                                f"{resolution}]")
    if masks.numel() and (int(masks.min()) < 0 or int(masks.max()) >= max(classes, 1)):
        raise PluginOutputError(f"{label}: to_pairs returned mask values {int(masks.min())}..{int(masks.max())}, "
                                f"outside the label map 0..{max(classes, 1) - 1}")


def check_logs(logs: Any, label: str) -> dict[str, Any]:
    """``train_step``'s result: a dict of names to scalar tensors or numbers (no device sync)."""
    if not isinstance(logs, dict):
        raise PluginOutputError(f"{label}: train_step returned {type(logs).__name__}, expected a dict of name -> "
                                "scalar tensor (the losses to log)")
    for key, value in logs.items():
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) or \
            isinstance(value, Tensor) and value.ndim == 0
        if not isinstance(key, str) or not ok:
            got = f"shape {list(value.shape)}" if isinstance(value, Tensor) else type(value).__name__
            raise PluginOutputError(f"{label}: train_step returned {key!r}: {got}, expected a scalar tensor")
    return logs


def check_loss(value: Any, label: str, term: str) -> Tensor:
    """A loss term: a tensor with no dimensions (finiteness is the divergence check's)."""
    if not isinstance(value, Tensor):
        raise PluginOutputError(f"{label}: {term} returned {type(value).__name__}, expected a scalar tensor")
    if value.ndim != 0:
        raise PluginOutputError(f"{label}: {term} returned a tensor of shape {list(value.shape)}, expected a scalar "
                                "(reduce it, e.g. with .mean())")
    return value


def calling(label: str, what: str, function: Callable[..., Any], *args: Any,
            passthrough: Callable[[BaseException], bool] | None = None, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an exception from plugin code is re-raised as one line naming
    the plugin, the original kept as its cause (``medgan-zoo --debug`` shows its traceback).
    ``passthrough(exc)``: True for an exception that is the caller's to handle (a sampling option
    the GAN refuses)."""
    try:
        return function(*args, **kwargs)
    except (MedganZooError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if passthrough is not None and passthrough(exc):
            raise
        reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        raise PluginOutputError(f"{label}: {what} raised {reason}") from exc


def check_tensors(modules: dict[str, torch.nn.Module], tensors: dict[str, Tensor], source: Path,
                  allow_nan: bool = False) -> None:
    """Tensors of a weights file against the networks they load into: the dtype each network holds
    (``load_state_dict`` would cast silently) and finite values."""
    for name, module in modules.items():
        for key, current in module.state_dict().items():
            tensor = tensors.get(f"{name}.{key}")
            if tensor is None:
                continue  # missing or extra tensors: load_state_dict's strict check says which
            if tensor.dtype != current.dtype:
                raise WeightsError(f"{source}: tensor {name}.{key} is {tensor.dtype} where the network holds "
                                   f"{current.dtype} (a file written by another program?)")
            if not allow_nan and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise WeightsError(f"{source}: tensor {name}.{key} holds NaN or infinite values (a diverged run?); "
                                   "--allow-nan (allow_nan=True) loads it anyway, to look at")


__all__ = ["PluginOutputError", "WeightsError", "calling", "check_generated", "check_logs", "check_loss",
           "check_pairs", "check_tensors", "gan_label"]
