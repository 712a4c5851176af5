"""On-disk cache of preprocessed splits, keyed by the source files and every preprocessing field.

Entries are safetensors files written atomically (temporary file + rename). An entry that cannot be
read is deleted and rebuilt, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .slices import SliceArrays

CACHE_ENV = "MEDGAN_ZOO_CACHE"
#: Bump when preprocessing or a generator changes what it produces for the same config.
FORMAT_VERSION = 3  # 2: volume ids beside subject ids; 3: each slice's group


def cache_root() -> Path:
    """``$MEDGAN_ZOO_CACHE``, else the platform's user cache folder for medgan-zoo."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("medgan-zoo"))


def file_fingerprints(root: Path, files: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(path relative to root, size, mtime in ns) of each source file: cheap and change-sensitive."""
    rows = []
    for path in sorted(set(files)):
        stat = path.stat()
        rows.append((str(path.relative_to(root)) if path.is_relative_to(root) else str(path),
                     stat.st_size, stat.st_mtime_ns))
    return rows


def cache_key(dataset: str, config: dict[str, Any], sources: list[tuple[str, int, int]]) -> str:
    from .._version import __version__

    material = {"format": FORMAT_VERSION, "version": __version__, "dataset": dataset,
                "config": config, "sources": sources}
    blob = json.dumps(material, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _read(path: Path) -> SliceArrays:
    from safetensors.numpy import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        metadata = handle.metadata() or {}
        images = handle.get_tensor("images")
        masks = handle.get_tensor("masks")
        index = handle.get_tensor("subject_index")
        volume_index = handle.get_tensor("volume_index")
    subject_ids = json.loads(metadata["subject_ids"])
    volume_ids = json.loads(metadata["volume_ids"])
    groups = json.loads(metadata["groups"]) if "groups" in metadata else None
    extra = json.loads(metadata["extra"]) if "extra" in metadata else None
    return SliceArrays(images, masks, [subject_ids[i] for i in index.tolist()],
                       [volume_ids[i] for i in volume_index.tolist()], groups, extra)


def _ids_and_index(per_slice: list[str]) -> tuple[list[str], np.ndarray]:
    ids = list(dict.fromkeys(per_slice))
    lookup = {s: i for i, s in enumerate(ids)}
    return ids, np.array([lookup[s] for s in per_slice], dtype=np.int32)


def _write(path: Path, arrays: SliceArrays) -> None:
    from safetensors.numpy import save_file

    subject_ids, subject_index = _ids_and_index(arrays.subjects)
    volume_ids, volume_index = _ids_and_index(arrays.volume_ids)
    tensors: dict[str, np.ndarray] = {
        "images": np.ascontiguousarray(arrays.images, dtype=np.float32),
        "masks": np.ascontiguousarray(arrays.masks, dtype=np.uint8),
        "subject_index": subject_index,
        "volume_index": volume_index,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        metadata = {"subject_ids": json.dumps(subject_ids), "volume_ids": json.dumps(volume_ids)}
        if arrays.groups is not None:
            metadata["groups"] = json.dumps(arrays.groups)
        if arrays.extra is not None:
            metadata["extra"] = json.dumps(arrays.extra)
        save_file(tensors, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cached(dataset: str, key: str, build: Callable[[], SliceArrays], enabled: bool = True) -> SliceArrays:
    """The cached arrays under ``key``, building and storing them on a miss."""
    if not enabled:
        return build()
    path = cache_root() / "datasets" / dataset / f"{key}.safetensors"
    if path.exists():
        try:
            return _read(path)
        except Exception as exc:  # truncated, corrupt or foreign file: rebuild it
            warnings.warn(f"unreadable cache entry {path} ({type(exc).__name__}: {exc}); rebuilding",
                          stacklevel=2)
            path.unlink(missing_ok=True)
    arrays = build()
    try:
        _write(path, arrays)
    except OSError as exc:  # a read-only or full disk must not stop the user's work
        warnings.warn(f"could not write cache entry {path}: {exc}", stacklevel=2)
    return arrays
