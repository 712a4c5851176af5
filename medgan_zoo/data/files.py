"""Finding a data set's files under a user's folder, whatever layout their copy has."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from .slices import DatasetError


def require_root(dataset: str, root: Path | None, expected: str, own_files: bool = False) -> Path:
    """The data root as an existing folder, or an error that says what should be there
    (``own_files``: a data set of the user's own files, which has no phantom twin)."""
    if root is None:
        if own_files:
            raise DatasetError(f"{dataset} reads data from disk: pass data_root (CLI: --data-root) pointing at "
                               f"{expected}")
        raise DatasetError(
            f"{dataset} reads data from disk: pass data_root (CLI: --data-root) pointing at {expected}; "
            f"the data set cannot be downloaded by code (registration). Try '{dataset}-phantom' to "
            "work without it"
        )
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{dataset}: data root {root} does not exist (expected {expected})")
    if not root.is_dir():
        raise DatasetError(f"{dataset}: data root {root} is not a folder (expected {expected})")
    return root


def under(root: Path, path: Path | str) -> Path:
    """A path the user gave for a data set: ``~`` expanded, relative paths taken from the data root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else root / path


def find(root: Path, pattern: str) -> dict[str, list[Path]]:
    """Files under ``root`` whose name matches ``pattern`` (a regex with one group, the id)."""
    regex = re.compile(pattern, re.IGNORECASE)
    found: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        match = regex.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(match.group(1), []).append(path)
    return found


def split_from_folders(path: Path, root: Path) -> str | None:
    """'train' or 'test' from the folder names between ``root`` and ``path``, if they say."""
    for part in path.relative_to(root).parts[:-1]:
        name = part.lower()
        if "train" in name:
            return "train"
        if "test" in name:
            return "test"
    return None


@contextlib.contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn any failure while reading ``path`` into one error naming the file."""
    try:
        yield
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"cannot read {what} {path}: {type(exc).__name__}: {exc}") from exc
