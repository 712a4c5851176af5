"""A registry's read-only table of one kind of spec, with errors that say why a name cannot be used."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from .errors import PluginError, UnknownNameError
from .specs import PluginSpec

S = TypeVar("S", bound=PluginSpec)


class SpecTable(Mapping[str, S], Generic[S]):
    """Read-only ``name -> spec`` mapping of the usable specs of one kind.

    Looking up a name that is unknown, claimed twice, or whose plugin is broken raises an error
    that says which, with suggestions or the names of the distributions involved.
    """

    def __init__(self, kind: str, specs: dict[str, S], blocked: dict[str, str], broken: int):
        self.kind = kind
        self._specs = specs
        self._blocked = blocked
        self._broken = broken

    def __getitem__(self, name: str) -> S:
        try:
            return self._specs[name]
        except KeyError:
            pass
        if name in self._blocked:
            raise PluginError(self._blocked[name])
        candidates = list(self._specs) + list(self._blocked)
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        hint = ""
        if self._broken:
            hint = f"{self._broken} plugin(s) failed to load; `medgan-zoo plugins` shows why"
        elif not close and self._specs:
            hint = "known: " + ", ".join(sorted(self._specs))
        elif not self._specs:
            hint = f"no {self.kind} plugins are installed"
        raise UnknownNameError(self.kind, name, close, hint)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __repr__(self) -> str:
        return f"<SpecTable {self.kind}: {', '.join(self)}>"
