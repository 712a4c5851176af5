"""What a metric returns (:class:`MetricResult`, its table cells) and how a returned value is checked."""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import MedganZooError


class MetricResultError(MedganZooError):
    """A metric returned something that is not a result."""


class Cell(BaseModel):
    """One number of a table: a value, its standard deviation over seeds (None: one seed), and any
    further fields worth showing beside it (e.g. ``training_pairs``)."""

    model_config = ConfigDict(extra="allow")

    value: float | None
    std: float | None = None


class MetricResult(BaseModel):
    """What a metric returns.

    ``values`` holds every number and fact, JSON-ready; evaluation.json stores them as they are.
    ``headline`` names the key of the main number (a study table's cell, a sweep's objective) and
    ``std`` the key of its standard deviation, when there is one. ``reference`` gives, per key, what
    real data gets (0 for a distance, the real data's Dice). ``shown`` lists the keys of the one-line
    summary (default: headline and std). ``rows`` are further table rows the metric measured besides
    the samples' own (a U-Net trained on real pairs, or on real + generated ones): label -> cell;
    ``{model}`` in a label stands for the model's name.
    """

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any]
    headline: str
    std: str | None = None
    reference: dict[str, float] = Field(default_factory=dict)
    shown: tuple[str, ...] = ()
    rows: dict[str, Cell] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys_exist(self) -> MetricResult:
        missing = [k for k in (self.headline, self.std, *self.shown) if k is not None and k not in self.values]
        if missing:
            raise ValueError(f"keys {missing} are not in values ({sorted(self.values)})")
        return self

    def __getitem__(self, key: str) -> Any:
        """``result["dice"]``: a value, as in the dict metrics returned before this contract."""
        return self.values[key]

    @property
    def value(self) -> float | None:
        value = self.values[self.headline]
        return None if value is None else float(value)

    def record(self, better: str) -> dict[str, Any]:
        """The layout of evaluation.json: ``values`` as they are, plus ``reference`` and ``headline``."""
        shown = list(self.shown) or [k for k in (self.headline, self.std) if k is not None]
        return {**self.values, "reference": dict(self.reference),
                "headline": {"key": self.headline, "value": self.value,
                             "std": self.values.get(self.std) if self.std else None, "better": better,
                             "reference": self.reference.get(self.headline), "shown": shown,
                             "rows": {label: cell.model_dump() for label, cell in self.rows.items()}}}


def as_result(name: str, returned: Any) -> MetricResult:
    """A metric's return value as a :class:`MetricResult`; a plain dict (the 0.1.0 contract) is
    accepted with a deprecation warning, its first number as the headline."""
    if isinstance(returned, MetricResult):
        return returned
    if isinstance(returned, dict):
        numbers = [k for k, v in returned.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numbers:
            raise MetricResultError(f"metric {name!r} returned a dict without a number: {sorted(returned)}")
        warnings.warn(f"metric {name!r} returned a dict: return a medgan_zoo.MetricResult (a dict's first "
                      "number is taken as its headline; this fallback will be removed)", DeprecationWarning,
                      stacklevel=3)
        values = {k: v for k, v in returned.items() if k != "reference"}
        return MetricResult(values=values, headline=numbers[0], shown=tuple(numbers[:4]),
                            reference=dict(returned.get("reference") or {}))
    raise MetricResultError(f"metric {name!r} returned {type(returned).__name__}, not a medgan_zoo.MetricResult")


def plugin_label(spec: Any) -> str:
    """``metric 'fid' (medgan-zoo 0.1.0)``: how an error names the plugin behind a value."""
    origin = getattr(spec, "origin", None)
    where = f" ({origin.distribution} {origin.version})" if origin is not None else ""
    return f"{getattr(spec, 'kind', 'metric')} {spec.name!r}{where}"


def checked_record(spec: Any, returned: Any) -> dict[str, Any]:
    """A metric's return value as its evaluation.json record, checked where it enters: a result,
    a finite headline (None is allowed: "not available", with the metric's ``note`` saying why);
    other non-finite values become None, listed under ``non_finite``."""
    import math

    from .jsonsafe import finite

    result = as_result(spec.name, returned)
    value = result.values.get(result.headline)
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a numpy or torch scalar
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(value):
        raise MetricResultError(f"{plugin_label(spec)} returned {value} for its headline {result.headline!r}: a metric "
                                "returns finite numbers, or None with a note saying why a value is not available")
    record, replaced = finite(result.record(spec.better))
    if replaced:
        record["non_finite"] = replaced
    return record


def failed_record(spec: Any, error: BaseException) -> dict[str, Any]:
    """The record of a metric that raised: why, and which plugin; no value."""
    reason = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return {"failed": True, "error": reason, "plugin": plugin_label(spec), "reference": {},
            "headline": {"key": None, "value": None, "std": None, "better": spec.better, "reference": None,
                         "shown": [], "rows": {}}}
