"""Optuna's journal file, made to survive a write that fails midway.

Optuna's reader tolerates a broken record only while it is the last line: once a later append
succeeds, the broken record sits mid-file and every reader fails (``JSONDecodeError``), so a full
disk during one write would end the study. Here a failed append is undone (the file truncated back
to its size before the write, under the journal's lock), and opening a journal that was damaged
anyway (a kill during a write, an older version) moves the damaged file aside and rewrites its good
records, with one line saying so.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from ..errors import MedganZooError


class JournalWriteError(MedganZooError):
    """An append to the study journal failed; the journal is as it was before it."""


def _decodable(line: bytes) -> bool:
    if not line.endswith(b"\n"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False


def backend(path: Path):
    """Optuna's ``JournalFileBackend`` for ``path`` with undone failed appends, repaired on open."""
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    class SafeJournalFile(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            data = ("\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n").encode()
            with _locked(self._lock):
                size = _complete_size(self._file_path)  # a dead writer's half line is not kept under ours
                if size != os.stat(self._file_path).st_size:
                    _truncate(self._file_path, size)
                try:
                    with open(self._file_path, "ab") as handle:
                        write(handle, data)
                except OSError as exc:
                    _truncate(self._file_path, size)
                    raise JournalWriteError(f"cannot write the study journal {self._file_path}: "
                                            f"{exc.strerror or exc} (the journal is as it was before this write)"
                                            ) from exc

    lock = JournalFileOpenLock(str(path))
    if path.exists() and not _sound(path.read_bytes()):  # read without the lock; repair under it
        try:
            with _locked(lock):
                repair(path)
        except OSError as exc:  # a read-only copy (an archived study): read it as it is
            warnings.warn(f"study journal {path} has a damaged record but cannot be repaired here ({exc.strerror}); "
                          "reading the records before it", stacklevel=2)
    return SafeJournalFile(str(path), lock_obj=lock)


def _sound(raw: bytes) -> bool:
    return all(_decodable(line) for line in raw.splitlines(keepends=True))


def _complete_size(path: str) -> int:
    """The file's size up to and including its last newline."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return raw.rfind(b"\n") + 1


def write(handle, data: bytes) -> None:
    """Write, flush and sync one append (a test makes it fail midway)."""
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def _truncate(path: str, size: int) -> None:
    try:
        os.truncate(path, size)
    except OSError:
        pass  # cannot even truncate: the next open's repair moves the broken record aside


class _locked:
    def __init__(self, lock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _recovered(line: bytes) -> bytes | None:
    """A line as a record: itself when it decodes; when a dead writer's half record was joined by the
    next append (``{"op_code":4,"par{"op_code":7,...}``), the whole record at its end; else None."""
    if _decodable(line):
        return line
    start = line.rfind(b'{"op_code"')
    while start > 0:
        if _decodable(line[start:]):
            return line[start:]
        start = line.rfind(b'{"op_code"', 0, start)
    return None


def repair(path: Path) -> Path | None:
    """Keep the decodable records of a damaged journal (call under its lock): the damaged file is
    moved to ``journal.log.damaged-TIME`` and its good records rewritten in place. Returns where the
    damaged file went, or None when nothing was wrong."""
    raw = path.read_bytes()
    lines = raw.splitlines(keepends=True)
    good = [kept for line in lines if (kept := _recovered(line)) is not None]
    if len(good) == len(lines) and all(_decodable(line) for line in lines):
        return None
    lost = sum(1 for line in lines if not _decodable(line))  # a half record (its joined tail is kept)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    tmp = path.with_name(f".{path.name}.repair-{os.getpid()}")
    with open(aside, "wb") as handle:  # a copy: the journal itself is never missing, even for a moment
        write(handle, raw)
    with open(tmp, "wb") as handle:
        write(handle, b"".join(good))
    os.replace(tmp, path)
    warnings.warn(f"study journal {path}: {lost} damaged record(s) (a write cut short) set aside with the whole "
                  f"file in {aside.name}; the {len(good)} good records kept", stacklevel=2)
    return aside


__all__ = ["JournalWriteError", "backend", "repair"]
