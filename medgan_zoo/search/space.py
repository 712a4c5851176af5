"""Search spaces as data: a YAML file of parameters, each a GAN config field with its values.

The default is the paper's Table 1 (``table1.yaml`` in this package), or a GAN's own space when its
spec names one (``GanSpec.search_space``: the diffusion models' widths and schedules). A parameter is sampled for a
GAN only when the GAN's config has its field (and, with ``only``, the GAN is listed), so one space
serves the whole DCGAN family and SPADE or StyleGAN2 sample what they have.
"""

from __future__ import annotations

import difflib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError

Scalar = bool | int | float | str


class Parameter(BaseModel):
    """One row of a space: a config field and the values it may take."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(default=None, description="GAN config field it sets (default: the parameter's name).")
    table1: str | None = Field(default=None, description="The row of the paper's Table 1 it stands for.")
    values: list[Any] | None = Field(default=None, description="The choices (categorical).")
    labels: list[str] | None = Field(default=None, description="Names of the choices in reports (default: the values).")
    low: float | None = Field(default=None, description="Lower bound of a numeric range (instead of values).")
    high: float | None = Field(default=None, description="Upper bound of a numeric range.")
    log: bool = Field(default=False, description="Sample the range on a log scale.")
    integer: bool = Field(default=False, description="The range holds integers.")
    only: list[str] | None = Field(default=None, description="GANs that sample it (default: every GAN with the field).")

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        ranged = self.low is not None or self.high is not None
        if (self.values is None) == (not ranged):
            raise ValueError("give either values: [...] or low: and high:")
        if ranged and (self.low is None or self.high is None or self.low >= self.high):
            raise ValueError(f"a range needs low < high, got low={self.low}, high={self.high}")
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        if self.labels is not None and (self.values is None or len(self.labels) != len(self.values)):
            raise ValueError("labels needs one name per value")
        return self

    @property
    def categorical(self) -> bool:
        return self.values is not None

    def choices(self) -> list[Scalar]:
        """What Optuna sees: the values, with lists (DiffAugment policies) as their labels."""
        assert self.values is not None
        return [self.token(i) for i in range(len(self.values))]

    def token(self, index: int) -> Scalar:
        assert self.values is not None
        value = self.values[index]
        if isinstance(value, (bool, int, float, str)):
            return value
        return self.labels[index] if self.labels else json.dumps(value)

    def value_of(self, token: Any) -> Any:
        """The config value behind an Optuna choice."""
        if not self.categorical:
            return token
        assert self.values is not None
        for i in range(len(self.values)):
            if self.token(i) == token:
                return self.values[i]
        raise ConfigError(f"{token!r} is not one of this parameter's choices {self.choices()}")

    def label_of(self, value: Any) -> str:
        if self.values is not None and self.labels:
            for v, label in zip(self.values, self.labels, strict=True):
                if v == value or (isinstance(v, list) and list(value or []) == v):
                    return label
        return str(value)


class SearchSpace(BaseModel):
    """A named set of parameters (``parameters: {name: {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    about: str = ""
    parameters: dict[str, Parameter]
    source: str = Field(default="", exclude=True)

    def field(self, name: str) -> str:
        return self.parameters[name].field or name

    def for_gan(self, gan: str, fixed: dict[str, Any] | None = None) -> dict[str, Parameter]:
        """The parameters ``gan`` samples: its config has the field, ``only`` allows it, and
        ``fixed`` (``--set``) does not pin it."""
        from ..registry import get_registry

        fields = get_registry().gans[gan].config.model_fields
        pinned = set(fixed or {})
        return {name: p for name, p in self.parameters.items()
                if (p.field or name) in fields and (p.only is None or gan in p.only)
                and (p.field or name) not in pinned}

    def check(self, gan: str, fixed: dict[str, Any] | None = None) -> None:
        """Every GAN named in ``only`` exists and every value is legal for ``gan``'s config with the
        ``fixed`` settings (a value may be legal only beside them: StyleGAN2's DiffAugment needs
        ``ada=false``)."""
        from ..registry import get_registry

        registry = get_registry()
        for name, p in self.parameters.items():
            for other in p.only or []:
                if other not in registry.gans:
                    close = difflib.get_close_matches(other, list(registry.gans), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise ConfigError(f"{self.source}: parameter {name!r}: unknown GAN {other!r} in only{hint}")
        spec = registry.gans[gan]
        every_field = {f for g in registry.gans.values() for f in g.config.model_fields}
        for name, p in self.parameters.items():
            field = p.field or name
            if field not in every_field:
                close = difflib.get_close_matches(field, sorted(every_field), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{self.source}: parameter {name!r}: no installed GAN has a config field "
                                  f"{field!r}{hint}")
        for name, p in self.for_gan(gan, fixed).items():
            field = self.field(name)
            probes = p.values if p.values is not None else [p.low, p.high]
            for value in probes:
                if p.integer and value is not None:
                    value = int(value)
                try:
                    spec.config.model_validate({**(fixed or {}), field: value})
                except ValidationError as exc:
                    reason = exc.errors()[0]["msg"]
                    raise ConfigError(f"{self.source}: parameter {name!r}: value {value!r} is not legal for "
                                      f"{spec.label}'s {field}: {reason.removeprefix('Value error, ')} (fix "
                                      "settings with --set, or leave the parameter out with a space file)") from None

    def signature(self) -> str:
        """The space as canonical JSON (stored with a study, compared when a worker joins)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def default_space_path() -> Path:
    return Path(str(resources.files("medgan_zoo.search").joinpath("table1.yaml")))


def space_of(gan: str) -> Path:
    """The GAN's own space file (its spec's ``search_space``), or the paper's Table 1."""
    from ..registry import get_registry

    spec = get_registry().gans[gan]
    if spec.search_space is None:
        return default_space_path()
    package, name = spec.search_space.split(":", 1)
    try:
        path = Path(str(resources.files(package).joinpath(name)))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ConfigError(f"{spec.label} names its search space {spec.search_space!r}, which is not installed "
                          "(reinstall the plugin, or give --space FILE)")
    return path


def load_space(path: str | Path | None = None, gan: str | None = None) -> SearchSpace:
    """Read a space file (None: ``gan``'s own space, or the paper's Table 1); errors name the file
    and the key."""
    import yaml

    if path is not None:
        path = Path(path).expanduser()
    else:
        path = space_of(gan) if gan is not None else default_space_path()
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"space file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict) or not data["parameters"]:
        raise ConfigError(f"{path}: expected a mapping with 'parameters: {{name: {{values: [...]}}}}'")
    unknown = set(data) - {"about", "parameters"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected 'about' and 'parameters'")
    parameters = {}
    for name, body in data["parameters"].items():
        try:
            parameters[str(name)] = Parameter.model_validate(body if body is not None else {})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(x) for x in error["loc"])
            if error["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(error["loc"][-1]), list(Parameter.model_fields), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{path}: parameter {name!r}: unknown key {where!r}{hint}") from None
            raise ConfigError(f"{path}: parameter {name!r}: {where + ': ' if where else ''}"
                              f"{error['msg'].removeprefix('Value error, ')}") from None
    return SearchSpace(about=str(data.get("about", "")), parameters=parameters, source=str(path))
