"""JSON the project writes is strict: no NaN or Infinity tokens (which other readers refuse), a null
in their place, and the paths of the values replaced for the record's own "why"."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any, path: str = "", replaced: list[str] | None = None) -> tuple[Any, list[str]]:
    """(a copy of ``value`` with every NaN or infinite float as None, the dotted paths replaced)."""
    replaced = [] if replaced is None else replaced
    if isinstance(value, float) and not math.isfinite(value):
        replaced.append(path or "value")
        return None, replaced
    if isinstance(value, dict):
        return {k: finite(v, f"{path}.{k}" if path else str(k), replaced)[0] for k, v in value.items()}, replaced
    if isinstance(value, (list, tuple)):
        return [finite(v, f"{path}[{i}]", replaced)[0] for i, v in enumerate(value)], replaced
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy and torch scalars
        return finite(value.item(), path, replaced)
    return value, replaced


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (they become null); ``default=str``."""
    options.setdefault("default", str)
    return json.dumps(finite(value)[0], allow_nan=False, **options)


__all__ = ["dumps", "finite"]
