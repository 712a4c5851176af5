"""What a plugin registers: one pydantic spec per GAN, loss, dataset or metric.

A spec carries a slug ``name``, a one-line ``summary``, a ``factory`` (a callable, or a lazy
``"package.module:attribute"`` reference so that discovery imports nothing heavy), a typed ``config``
model whose every field has a default and which rejects unknown keys, and what the plugin needs.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, PluginError

SLUG_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
_FACTORY_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64)]


class PluginConfig(BaseModel):
    """Base of every plugin config model: typed fields with defaults; unknown keys are rejected.

    Forgiving with text, as typed on a command line or in YAML: a list or tuple field takes a comma
    list (``"color,translation"``), and a path field expands ``~`` and environment variables. A
    subclass may override :meth:`prepare` to fill values before validation (a named preset), and
    lists in :attr:`ADDED_FIELDS` the fields added after models recorded it (docs/plugins.md)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    ADDED_FIELDS: ClassVar[Mapping[str, Any]] = {}  # field added later -> the value older records ran with

    @classmethod
    def recorded_before(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data``, with the older values of added fields when it is a recorded config (one that
        holds every field not in :attr:`ADDED_FIELDS`)."""
        added = cls.ADDED_FIELDS
        if added and set(cls.model_fields) - added.keys() <= data.keys():
            return {**added, **data}
        return dict(data)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The given values (a copy, safe to change) before validation; returns what to validate."""
        return data

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = cls.prepare(cls.recorded_before(data))
        for name, field in cls.model_fields.items():
            value = data.get(name)
            if not isinstance(value, str):
                continue
            kinds = _annotation_kinds(field.annotation)
            if kinds & {list, tuple}:
                data[name] = [part.strip() for part in value.split(",") if part.strip()]
            elif Path in kinds:
                data[name] = os.path.expanduser(os.path.expandvars(value))
        return data


def _annotation_kinds(annotation: Any) -> set[Any]:
    """The outer types an annotation admits (``tuple[int, ...] | None`` -> {tuple, NoneType})."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return {kind for arg in get_args(annotation) for kind in _annotation_kinds(arg)}
    if origin is Annotated:
        return _annotation_kinds(get_args(annotation)[0])
    return {origin or annotation}


class Origin(BaseModel):
    """Which installed distribution registered a spec; filled in by the registry."""

    model_config = ConfigDict(frozen=True)

    distribution: str
    version: str
    plugin: str = Field(description="Entry-point (or test) plugin name within the distribution.")

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}"

    @property
    def builtin(self) -> bool:
        """Registered by medgan-zoo itself."""
        return re.sub(r"[-_.]+", "-", self.distribution).lower() == "medgan-zoo"


class PluginSpec(BaseModel):
    """Fields shared by every spec kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    kind: ClassVar[str] = "plugin"
    #: 'module:Class' the config model must derive from (checked at registration).
    config_base: ClassVar[str] = "medgan_zoo.specs:PluginConfig"

    name: Slug = Field(description="Lower-case slug, e.g. 'wgan-gp'.")
    summary: str = Field(min_length=1, max_length=200, description="One line for listings.")
    factory: Callable[..., Any] | str = Field(
        description="Callable taking the validated config, or a 'package.module:attribute' reference."
    )
    config: type[BaseModel] = Field(
        default=PluginConfig, description="Config model; every field needs a default."
    )
    origin: Origin | None = Field(default=None, description="Set by the registry, not by plugins.")

    @field_validator("summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = value.strip()
        if not value or "\n" in value:
            raise ValueError("summary must be a single non-empty line")
        return value

    @field_validator("factory", mode="before")
    @classmethod
    def _factory_reference(cls, value: Any) -> Any:
        if not callable(value) and not (isinstance(value, str) and _FACTORY_REF.match(value)):
            raise ValueError(
                f"factory {value!r} is neither callable nor a 'package.module:attribute' reference"
            )
        return value

    @field_validator("config")
    @classmethod
    def _config_model(cls, model: type[BaseModel]) -> type[BaseModel]:
        module_name, _, attribute = cls.config_base.partition(":")
        base = getattr(importlib.import_module(module_name), attribute)
        if not (isinstance(model, type) and issubclass(model, base)):
            raise ValueError(f"config model {getattr(model, '__name__', model)} must derive from "
                             f"{module_name.split('.')[0]}.{attribute} ({cls.config_base}), the base of every "
                             f"{cls.kind} config")
        if model.model_config.get("extra") != "forbid":
            raise ValueError(
                f"config model {model.__name__} must reject unknown keys: subclass "
                "medgan_zoo.PluginConfig or set model_config = ConfigDict(extra='forbid')"
            )
        missing = [name for name, field in model.model_fields.items() if field.is_required()]
        if missing:
            raise ValueError(
                f"config model {model.__name__} field(s) {', '.join(missing)} have no default; "
                "every config field needs one"
            )
        return model

    # -- using a spec ---------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """``"gan 'dcgan' (medgan-zoo 0.1.0)"``: how errors name this spec."""
        where = f" ({self.origin})" if self.origin else ""
        return f"{self.kind} {self.name!r}{where}"

    def make_config(self, config: BaseModel | Mapping[str, Any] | None = None, /, **overrides: Any):
        """Validate ``config`` (a mapping or a config instance) updated with ``overrides``."""
        values: dict[str, Any] = {}
        if isinstance(config, BaseModel):
            values.update(config.model_dump(exclude_unset=True))
        elif config is not None:
            values.update(config)
        values.update(overrides)
        try:
            return self.config.model_validate(values)
        except ValidationError as exc:
            fields = list(self.config.model_fields)
            listing = f"medgan-zoo plugins show {self.kind} {self.name}"
            raise ConfigError(
                f"invalid config for {self.label}: {describe_validation_error(exc, fields, listing)}"
            ) from None

    def resolve_factory(self) -> Callable[..., Any]:
        """The factory callable, importing it first when given as a reference."""
        if callable(self.factory):
            return self.factory
        module_name, _, attribute = self.factory.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                target = getattr(target, part)
        except Exception as exc:  # an import-time error of the plugin's own code, too
            raise PluginError(
                f"{self.label}: cannot import its factory {self.factory!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not callable(target):
            raise PluginError(f"{self.label}: factory {self.factory!r} is not callable")
        return target

    def create(self, config: BaseModel | Mapping[str, Any] | None = None, /, **overrides: Any):
        """Build the plugin's object from a validated config."""
        return self.resolve_factory()(self.make_config(config, **overrides))

    def config_fields(self) -> list[dict[str, Any]]:
        """Every config field with its type, default and description (for docs and the CLI)."""
        rows = []
        for name, field in self.config.model_fields.items():
            rows.append(
                {
                    "name": name,
                    "type": type_name(field.annotation),
                    "default": field.get_default(call_default_factory=True),
                    "description": field.description or "",
                }
            )
        return rows

    def requirements(self) -> dict[str, Any]:
        """The kind-specific fields: what the plugin needs and offers."""
        shared = set(PluginSpec.model_fields)
        return {k: getattr(self, k) for k in type(self).model_fields if k not in shared}


class GanSpec(PluginSpec):
    """A GAN architecture."""

    kind: ClassVar[str] = "gan"
    config_base: ClassVar[str] = "medgan_zoo.gans.config:GanConfig"

    conditional: bool = Field(
        default=False,
        description="True if the generator is conditioned on masks (SPADE); False if it generates "
        "image and one-hot mask channels jointly.",
    )
    resolutions: tuple[int, ...] = Field(
        default=(32, 64, 128, 256), min_length=1, description="Square resolutions it supports."
    )
    search_space: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[\w./-]+\.ya?ml$", description="Its "
                                     "default sweep space, a YAML file in its package, 'package:file.yaml' (None: "
                                     "Table 1).")

    @field_validator("resolutions")
    @classmethod
    def _powers_of_two(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        bad = [v for v in values if v < 4 or v & (v - 1)]
        if bad:
            raise ValueError(f"resolutions must be powers of two >= 4, got {bad}")
        return tuple(sorted(set(values)))


class LossSpec(PluginSpec):
    """An adversarial loss (D and G terms) or a discriminator regulariser."""

    kind: ClassVar[str] = "loss"

    role: Literal["adversarial", "regularizer"] = Field(
        description="'adversarial': an object with discriminator_loss/generator_loss; "
        "'regularizer': a callable (discriminator, real, fake) -> penalty."
    )

    def create(self, config: BaseModel | Mapping[str, Any] | None = None, /, **overrides: Any):
        """The plugin's object, wrapped so that each value it returns is checked (a scalar) and an
        exception from its code names it."""
        from .losses.base import checked

        return checked(super().create(config, **overrides), self.label, self.role)


class DatasetSpec(PluginSpec):
    """A dataset of 2D image/mask pairs, real (read from disk) or a procedural phantom."""

    kind: ClassVar[str] = "dataset"
    config_base: ClassVar[str] = "medgan_zoo.data.configs:DatasetConfig"

    modality: str = Field(min_length=1, description="e.g. 'cine MRI', 'CT', 'fundus photograph'.")
    organ: str = Field(min_length=1, description="e.g. 'heart', 'liver', 'retina'.")
    channels: int | None = Field(ge=1, description="Image channels (1 for MRI/CT, 3 for RGB); None: read from the "
                                 "data (a data set of the user's own files).")
    label_map: dict[int, str] | None = Field(description="Mask value -> class name; 0 is background. None: read from "
                                             "the data.")
    phantom: bool = Field(default=False, description="Generated procedurally; needs no data root.")
    check: Callable[..., Any] | str | None = Field(
        default=None, description="A function (or 'module:attribute') taking the validated config and returning "
        "(facts, problems) about the files, every problem collected (`medgan-zoo datasets check`); None: the "
        "check loads each split.")

    @field_validator("label_map")
    @classmethod
    def _contiguous_labels(cls, label_map: dict[int, str] | None) -> dict[int, str] | None:
        if label_map is None:
            return None
        if sorted(label_map) != list(range(len(label_map))) or len(label_map) < 2:
            raise ValueError(
                f"label_map keys must be 0..K-1 with K >= 2 (0 = background), got {sorted(label_map)}"
            )
        return label_map

    def checker(self) -> Callable[..., Any] | None:
        """The ``check`` function, imported when given as a reference."""
        if self.check is None or callable(self.check):
            return self.check
        module_name, _, attribute = self.check.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


class MetricSpec(PluginSpec):
    """An evaluation metric (the object its factory returns: :class:`medgan_zoo.Metric`)."""

    kind: ClassVar[str] = "metric"

    better: Literal["lower", "higher"] = Field(description="Which direction of its headline is better.")
    column: str | None = Field(default=None, description="Title of its column in study tables (None: the name).")
    quick: dict[str, Any] = Field(default_factory=dict, description="Config values of the quick scale (CI, demos, "
                                  "phantoms); the paper scale uses the defaults.")
    default: bool = Field(default=False, description="Evaluated when no metrics are named (evaluate, study).")
    every_study: bool = Field(default=False, description="A column of every study table, even when the metrics named "
                              "leave it out (a cheap check every comparison needs), unless it cannot run here.")
    available: Callable[[], str | None] | str | None = Field(
        default=None, description="A function (or 'module:attribute') that returns why the metric cannot run on "
        "this machine (e.g. missing weights), or None; a default metric that cannot run is left out with that reason.",
    )
    study: dict[str, Any] = Field(default_factory=dict, description="Config values the study evaluates models with.")
    baseline: dict[str, Any] | None = Field(default=None, description="Config values to score the real training data "
                                            "itself, giving the study's real-data rows (None: none).")

    @model_validator(mode="before")
    @classmethod
    def _retired_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            retired = [k for k in ("needs_real_images", "needs_masks", "needs_test_split") if k in data]
            if retired:
                import warnings

                warnings.warn(f"MetricSpec {data.get('name')!r}: {', '.join(retired)} are ignored (nothing read "
                              "them) and will be refused in a later release", DeprecationWarning, stacklevel=2)
                data = {k: v for k, v in data.items() if k not in retired}
        return data

    @model_validator(mode="after")
    def _presets_validate(self) -> MetricSpec:
        for field, values in (("quick", self.quick), ("study", self.study), ("baseline", self.baseline)):
            if values:
                try:
                    self.config.model_validate(values)
                except ValidationError as exc:
                    raise ValueError(f"{field} does not fit {self.config.__name__}: "
                                     f"{describe_validation_error(exc, list(self.config.model_fields))}") from None
        return self

    @property
    def title(self) -> str:
        """Its column title."""
        return self.column or self.name

    def unavailable(self) -> str | None:
        """Why it cannot run here (None: it can)."""
        if self.available is None:
            return None
        check = self.available
        if isinstance(check, str):
            module_name, _, attribute = check.partition(":")
            check = getattr(importlib.import_module(module_name), attribute)
        return check()


class CallbackSpec(PluginSpec):
    """A training callback (the object its factory returns: :class:`medgan_zoo.Callback`), added to
    a run when named in its ``callback_plugins`` setting (``medgan-zoo train --callback NAME``)."""

    kind: ClassVar[str] = "callback"


SPEC_TYPES: dict[str, type[PluginSpec]] = {
    spec.kind: spec for spec in (GanSpec, LossSpec, DatasetSpec, MetricSpec, CallbackSpec)
}


def describe_validation_error(exc: ValidationError, known_fields: Sequence[str] = (), listing: str = "") -> str:
    """One line per pydantic error: ``field 'x': message``; an unknown key gets a spelling hint,
    or else a pointer to ``listing`` (the command that lists the fields)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(error["loc"][-1]), list(known_fields), n=1)
            pointer = f" (`{listing}` lists the fields)" if listing else ""
            hint = f" (did you mean {close[0]!r}?)" if close else pointer
            parts.append(f"unknown key {where!r}{hint}")
        else:
            parts.append(f"field {where!r}: {error['msg']}")
    return "; ".join(parts)


def type_name(annotation: Any) -> str:
    """A short readable name for a type annotation."""
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("typing_extensions.", "")
