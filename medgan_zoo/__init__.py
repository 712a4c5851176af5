"""medgan-zoo: train, compare, share and evaluate GANs for medical images with their masks.

Importing this package is light: torch and the heavy libraries are imported where they are used
(``train``, ``load``, ``evaluate``, ``study``, ``compute_fid`` and friends resolve on first access).
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .data.configs import DatasetConfig, PhantomConfig, RealDatasetConfig
from .errors import ConfigError, MedganZooError, PluginError, UnknownNameError
from .factory import create_gan, create_loss, load_dataset
from .gans.config import GanConfig
from .hookspecs import hookimpl
from .losses.base import AdversarialLoss, Regularizer
from .registry import Problem, Registry, get_registry, reset_registry, use_registry
from .specs import CallbackSpec, DatasetSpec, GanSpec, LossSpec, MetricSpec, PluginConfig

if TYPE_CHECKING:
    from .catalogue import list_models
    from .evaluation.fid import compute_fid, compute_kid
    from .evaluation.harness import evaluate
    from .evaluation.study import study
    from .model import GanModel, ModelLoadError, load
    from .reporting.build import report
    from .sampling import Samples
    from .search.run import sweep
    from .training.callback import Callback, TrainControl, TrainState
    from .training.engine import train
    from .training.errors import CallbackError, DivergenceError, TrainingInterrupted

# The public contract of each plugin kind (docs/plugins.md), resolved on first access (torch).
_CONTRACTS = {
    "GAN": ("medgan_zoo.gans.base", "GAN"),
    "StepContext": ("medgan_zoo.gans.base", "StepContext"),
    "DcganFamilyGAN": ("medgan_zoo.gans.dcgan_family", "DcganFamilyGAN"),
    "DcganFamilyConfig": ("medgan_zoo.gans.dcgan_configs", "DcganFamilyConfig"),
    "SliceArrays": ("medgan_zoo.data.slices", "SliceArrays"),
    "SliceDataset": ("medgan_zoo.data.slices", "SliceDataset"),
    "make_dataset": ("medgan_zoo.data.build", "make_dataset"),
    "Metric": ("medgan_zoo.metric", "Metric"),
    "MetricResult": ("medgan_zoo.metric", "MetricResult"),
    "Cell": ("medgan_zoo.metric", "Cell"),
    "EvalContext": ("medgan_zoo.metric", "EvalContext"),
    "Callback": ("medgan_zoo.training.callback", "Callback"),
    "TrainState": ("medgan_zoo.training.callback", "TrainState"),
    "TrainControl": ("medgan_zoo.training.callback", "TrainControl"),
}

_LAZY = {
    **_CONTRACTS,
    "train": ("medgan_zoo.training.engine", "train"),
    "CallbackError": ("medgan_zoo.training.errors", "CallbackError"),
    "DivergenceError": ("medgan_zoo.training.errors", "DivergenceError"),
    "TrainingInterrupted": ("medgan_zoo.training.errors", "TrainingInterrupted"),
    "load": ("medgan_zoo.model", "load"),
    "GanModel": ("medgan_zoo.model", "GanModel"),
    "ModelLoadError": ("medgan_zoo.model", "ModelLoadError"),
    "Samples": ("medgan_zoo.sampling", "Samples"),
    "evaluate": ("medgan_zoo.evaluation.harness", "evaluate"),
    "study": ("medgan_zoo.evaluation.study", "study"),
    "compute_fid": ("medgan_zoo.evaluation.fid", "compute_fid"),
    "compute_kid": ("medgan_zoo.evaluation.fid", "compute_kid"),
    "list_models": ("medgan_zoo.catalogue", "list_models"),
    "sweep": ("medgan_zoo.search.run", "sweep"),
    "report": ("medgan_zoo.reporting.build", "report"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'medgan_zoo' has no attribute {name!r}")


__all__ = [
    "__version__",
    "AdversarialLoss",
    "Callback",
    "CallbackError",
    "CallbackSpec",
    "Cell",
    "DatasetConfig",
    "DcganFamilyConfig",
    "DcganFamilyGAN",
    "DivergenceError",
    "EvalContext",
    "GAN",
    "GanConfig",
    "Metric",
    "MetricResult",
    "PhantomConfig",
    "RealDatasetConfig",
    "Regularizer",
    "SliceArrays",
    "SliceDataset",
    "StepContext",
    "TrainControl",
    "TrainState",
    "TrainingInterrupted",
    "make_dataset",
    "ConfigError",
    "DatasetSpec",
    "GanModel",
    "GanSpec",
    "LossSpec",
    "MedganZooError",
    "MetricSpec",
    "ModelLoadError",
    "PluginConfig",
    "PluginError",
    "Problem",
    "Registry",
    "Samples",
    "UnknownNameError",
    "compute_fid",
    "compute_kid",
    "create_gan",
    "create_loss",
    "evaluate",
    "get_registry",
    "hookimpl",
    "list_models",
    "load",
    "load_dataset",
    "report",
    "reset_registry",
    "study",
    "sweep",
    "train",
    "use_registry",
]
