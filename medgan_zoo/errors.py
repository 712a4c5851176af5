"""Exceptions raised for expected faults; the CLI prints them as one line."""

from __future__ import annotations

from collections.abc import Iterable


class MedganZooError(Exception):
    """Base class of every error medgan-zoo raises on purpose."""


class UnknownNameError(MedganZooError, KeyError):
    """A name that no plugin registered; the message suggests the closest ones."""

    def __init__(self, kind: str, name: str, suggestions: Iterable[str] = (), hint: str = ""):
        self.kind = kind
        self.name = name
        self.suggestions = tuple(suggestions)
        message = f"unknown {kind} {name!r}"
        if self.suggestions:
            message += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


class PluginError(MedganZooError, KeyError):
    """A name that exists but cannot be used: its plugin is broken or the name is claimed twice."""

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(MedganZooError, ValueError):
    """A configuration value or key that a plugin's config model rejects."""
