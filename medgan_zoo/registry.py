"""Plugin discovery: entry points in the ``medgan_zoo`` group, loaded with pluggy, specs checked.

Each plugin is imported, registered and has its hooks called on its own, with a ``register``
callback bound to it; whatever goes wrong is recorded in :attr:`Registry.problems` against that
plugin's distribution and version, and every other plugin still loads.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import ValidationError

from . import hookspecs
from .errors import PluginError, UnknownNameError
from .spec_table import SpecTable
from .specs import (
    SPEC_TYPES,
    CallbackSpec,
    DatasetSpec,
    GanSpec,
    LossSpec,
    MetricSpec,
    Origin,
    PluginSpec,
    describe_validation_error,
)

ENTRY_POINT_GROUP = "medgan_zoo"
BUILTIN_DISTRIBUTION = "medgan-zoo"
LOAD_PLUGINS_ENV = "MEDGAN_ZOO_LOAD_PLUGINS"

#: hook name -> spec kind, in the order hooks are called.
HOOKS: dict[str, str] = {
    "register_gans": "gan",
    "register_losses": "loss",
    "register_datasets": "dataset",
    "register_metrics": "metric",
    "register_callbacks": "callback",
}
KINDS: tuple[str, ...] = tuple(HOOKS.values())
_KIND_ALIASES = {alias: kind for kind in KINDS for alias in (kind, f"{kind}s", f"{kind}es")}


def normalize_distribution(name: str) -> str:
    """PEP 503 normalisation, so 'MedGAN_Zoo.Foo' and 'medgan-zoo-foo' compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalize_kind(kind: str) -> str:
    """'gans' -> 'gan', 'losses' -> 'loss'; unknown kinds raise with a suggestion."""
    try:
        return _KIND_ALIASES[kind.lower()]
    except KeyError:
        close = difflib.get_close_matches(kind.lower(), list(_KIND_ALIASES), n=1)
        raise UnknownNameError("plugin kind", kind, close, "kinds: " + ", ".join(KINDS)) from None


@dataclass(frozen=True)
class PluginSource:
    """One plugin to load: ``load()`` returns the module or object that implements hooks."""

    plugin: str
    distribution: str
    version: str
    load: Callable[[], object]

    @property
    def builtin(self) -> bool:
        return normalize_distribution(self.distribution) == BUILTIN_DISTRIBUTION

    @classmethod
    def of(cls, obj: object, distribution: str, version: str = "0", plugin: str = "") -> PluginSource:
        """A source for an object already in hand (in-test plugins)."""
        return cls(plugin or distribution, distribution, version, lambda: obj)


@dataclass(frozen=True)
class Problem:
    """A plugin, or one of its specs, that could not be registered, and why."""

    distribution: str
    version: str
    reason: str
    plugin: str = ""
    kind: str | None = None
    name: str | None = None
    status: str = "error"  # or "conflict": a name claimed by more than one plugin

    def __str__(self) -> str:
        what = f"{self.kind} {self.name!r} " if self.kind and self.name else ""
        return f"{what}[{self.distribution} {self.version}, plugin {self.plugin!r}]: {self.reason}"


@dataclass(frozen=True)
class Entry:
    """One row of ``medgan-zoo plugins``."""

    name: str
    kind: str
    distribution: str
    version: str
    status: str
    summary: str = ""
    reason: str = ""
    plugin: str = ""


@dataclass
class Registry:
    """Every registered spec by kind, plus the problems met while loading plugins."""

    gans: SpecTable[GanSpec]
    losses: SpecTable[LossSpec]
    datasets: SpecTable[DatasetSpec]
    metrics: SpecTable[MetricSpec]
    callbacks: SpecTable[CallbackSpec]
    problems: tuple[Problem, ...] = ()
    disabled: tuple[tuple[str, str], ...] = field(default=())

    def table(self, kind: str) -> SpecTable[Any]:
        """The mapping for ``kind`` ('gan', 'loss', 'dataset', 'metric', 'callback'; plurals accepted)."""
        tables: dict[str, SpecTable[Any]] = {
            "gan": self.gans, "loss": self.losses, "dataset": self.datasets, "metric": self.metrics,
            "callback": self.callbacks,
        }
        return tables[normalize_kind(kind)]

    def get(self, kind: str, name: str) -> PluginSpec:
        """The spec ``name`` of ``kind``; raises a clear error when it cannot be used."""
        return self.table(kind)[name]

    def entries(self, check: bool = False) -> list[Entry]:
        """Rows for listings: usable specs, conflicts, failures and disabled distributions.
        ``check`` imports every factory: one that does not import is listed as ``error``."""
        rows: list[Entry] = []
        for kind in KINDS:
            for spec in self.table(kind).values():
                assert spec.origin is not None
                status, reason = "ok", ""
                if check:
                    try:
                        spec.resolve_factory()
                    except PluginError as exc:
                        status, reason = "error", str(exc)
                rows.append(Entry(spec.name, kind, spec.origin.distribution, spec.origin.version,
                                  status, spec.summary, reason, spec.origin.plugin))
        for p in self.problems:
            rows.append(Entry(p.name or "-", p.kind or "-", p.distribution, p.version, p.status,
                              reason=p.reason, plugin=p.plugin))
        for dist, version in self.disabled:
            rows.append(Entry("-", "-", dist, version, "disabled",
                              reason=f"not listed in {LOAD_PLUGINS_ENV}"))
        return rows

    @classmethod
    def load(cls, sources: Iterable[PluginSource], disabled: Iterable[tuple[str, str]] = (),
             builtins: bool = False) -> Registry:
        """Load the given plugins, each on its own, and build the registry; ``builtins=True`` loads
        medgan-zoo's own plugins first (a test of an external plugin beside the built-ins)."""
        if builtins:
            sources = [*builtin_sources(), *sources]
        return _Loader().run(sources, tuple(disabled))


class _Loader:
    """The one-shot work of :meth:`Registry.load`."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.problems: list[Problem] = []
        self.found: dict[str, dict[str, list[PluginSpec]]] = {kind: {} for kind in KINDS}
        self.blocked: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}

    def problem(self, source: PluginSource, reason: str, kind: str | None = None,
                name: str | None = None) -> None:
        self.problems.append(
            Problem(source.distribution, source.version, reason, source.plugin, kind, name)
        )

    def run(self, sources: Iterable[PluginSource], disabled: tuple[tuple[str, str], ...]) -> Registry:
        for source in sources:
            self.load_one(source)
        tables = {kind: self.resolve(kind) for kind in KINDS}
        broken = sum(1 for p in self.problems if p.name is None)
        specs: dict[str, SpecTable[Any]] = {
            kind: SpecTable(kind, tables[kind], self.blocked[kind], broken) for kind in KINDS
        }
        return Registry(specs["gan"], specs["loss"], specs["dataset"], specs["metric"], specs["callback"],
                        tuple(self.problems), disabled)

    def load_one(self, source: PluginSource) -> None:
        try:
            plugin = source.load()
        except Exception as exc:
            self.problem(source, f"cannot import plugin: {type(exc).__name__}: {exc}")
            return
        try:
            self.pm.register(plugin, name=f"{source.distribution}:{source.plugin}")
            self.pm.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            message = str(exc).replace("\n", " ")
            if "unknown hook" in message:
                message += "; medgan-zoo hooks are " + ", ".join(HOOKS)
            self.problem(source, f"invalid plugin: {message}")
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            return
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        for hook_name, kind in HOOKS.items():
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            register = _RegisterCallback(self, source, kind)
            try:
                caller(register=register)
            except ValidationError as exc:
                self.problem(source, f"{hook_name} built an invalid {exc.title}: "
                             f"{describe_validation_error(exc)}", kind)
            except Exception as exc:
                self.problem(source, f"{hook_name} raised {type(exc).__name__}: {exc}", kind)

    def resolve(self, kind: str) -> dict[str, PluginSpec]:
        usable: dict[str, PluginSpec] = {}
        for name, specs in self.found[kind].items():
            if len(specs) == 1:  # a valid spec wins over an invalid registration of its name
                usable[name] = specs[0]
                self.blocked[kind].pop(name, None)
                continue
            builtin = [s for s in specs if s.origin is not None and s.origin.builtin]
            if len(builtin) == 1:  # a built-in cannot be uninstalled: it keeps its name
                usable[name] = builtin[0]
                for spec in specs:
                    if spec is not builtin[0]:
                        assert spec.origin is not None
                        self.problems.append(Problem(
                            spec.origin.distribution, spec.origin.version,
                            f"{kind} {name!r} is medgan-zoo's own; this registration is ignored (rename it)",
                            spec.origin.plugin, kind, name, "conflict"))
                continue
            claimants = " and ".join(str(s.origin) for s in specs)
            reason = (f"{kind} {name!r} is registered by {claimants}; "
                      "uninstall one of them to use it")
            self.blocked[kind][name] = reason
            for spec in specs:
                assert spec.origin is not None
                self.problems.append(Problem(spec.origin.distribution, spec.origin.version,
                                             reason, spec.origin.plugin, kind, name, "conflict"))
        return usable


class _RegisterCallback:
    """The ``register`` a hook receives: validates one spec and files it under its plugin."""

    def __init__(self, loader: _Loader, source: PluginSource, kind: str):
        self.loader, self.source, self.kind = loader, source, kind
        self.spec_type = SPEC_TYPES[kind]

    def __call__(self, spec: PluginSpec | Mapping[str, Any]) -> None:
        kind, source = self.kind, self.source
        if isinstance(spec, Mapping):
            name = spec.get("name") if isinstance(spec.get("name"), str) else None
            try:
                spec = self.spec_type.model_validate(dict(spec))
            except ValidationError as exc:
                reason = f"invalid {self.spec_type.__name__}: {describe_validation_error(exc)}"
                self.loader.problem(source, reason, kind, name)
                if name:
                    self.loader.blocked[kind][name] = (
                        f"{kind} {name!r} from {source.distribution} {source.version} "
                        f"is invalid: {reason}"
                    )
                return
        elif type(spec) is not self.spec_type:
            got = type(spec).__name__
            self.loader.problem(
                source, f"register_{kind}s expects a {self.spec_type.__name__}, got {got}", kind,
                getattr(spec, "name", None),
            )
            return
        origin = Origin(distribution=source.distribution, version=source.version,
                        plugin=source.plugin)
        spec = spec.model_copy(update={"origin": origin})
        self.loader.found[kind].setdefault(spec.name, []).append(spec)


# -- discovery of installed plugins -------------------------------------------------------------


def _allowed_external() -> set[str] | None:
    """Distributions named in MEDGAN_ZOO_LOAD_PLUGINS (None: the variable is unset, load all)."""
    value = os.environ.get(LOAD_PLUGINS_ENV)
    if value is None:
        return None
    return {normalize_distribution(n.strip()) for n in value.split(",") if n.strip()}


def builtin_sources() -> list[PluginSource]:
    """medgan-zoo's own plugins, from its entry points."""
    return [s for s in entry_point_sources()[0] if s.builtin]


def entry_point_sources() -> tuple[list[PluginSource], list[tuple[str, str]]]:
    """Installed plugins (built-ins first), and the external ones the environment disabled."""
    allowed = _allowed_external()
    sources: list[PluginSource] = []
    disabled: set[tuple[str, str]] = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        name = dist.metadata["Name"] if dist is not None else "unknown-distribution"
        version = dist.version if dist is not None else "?"
        source = PluginSource(ep.name, name, version, ep.load)
        if source.builtin or allowed is None or normalize_distribution(name) in allowed:
            sources.append(source)
        else:
            disabled.add((name, version))
    sources.sort(key=lambda s: (not s.builtin, normalize_distribution(s.distribution), s.plugin))
    return sources, sorted(disabled)


def discover() -> Registry:
    """Load every installed plugin now (no caching; see :func:`get_registry`)."""
    sources, disabled = entry_point_sources()
    return Registry.load(sources, disabled)


_lock = threading.Lock()
_current: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = discover()
        return _current


def reset_registry() -> None:
    """Forget the discovered registry; the next :func:`get_registry` discovers again."""
    global _current
    with _lock:
        _current = None


@contextlib.contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide one inside a ``with`` block (tests, notebooks)."""
    global _current
    with _lock:
        previous, _current = _current, registry
    try:
        yield registry
    finally:
        with _lock:
            _current = previous
