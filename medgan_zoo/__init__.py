"""medgan-zoo: train, compare, share and evaluate GANs for medical images with their masks.

Importing this package is light: torch and the heavy libraries are imported where they are used.
"""

from ._version import __version__
from .errors import ConfigError, MedganZooError, PluginError, UnknownNameError
from .factory import create_loss, load_dataset
from .hookspecs import hookimpl
from .registry import Problem, Registry, get_registry, reset_registry, use_registry
from .specs import DatasetSpec, GanSpec, LossSpec, MetricSpec, PluginConfig

__all__ = [
    "__version__",
    "ConfigError",
    "DatasetSpec",
    "GanSpec",
    "LossSpec",
    "MedganZooError",
    "MetricSpec",
    "PluginConfig",
    "PluginError",
    "Problem",
    "Registry",
    "UnknownNameError",
    "create_loss",
    "get_registry",
    "hookimpl",
    "load_dataset",
    "reset_registry",
    "use_registry",
]
