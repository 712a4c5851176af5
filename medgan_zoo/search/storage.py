"""Where a study lives: Optuna's journal file on one machine, PostgreSQL across machines.

Both are Optuna's own storages. What this module adds: a URL check that fails in one line (the
password hidden), a lock that makes "count the finished trials, then claim one" atomic across
workers (a file lock beside a journal, a PostgreSQL advisory lock), and the detection of a dead
worker's trial on a journal file, which has no heartbeat of its own in Optuna.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MedganZooError

JOURNAL = "journal.log"
# How often a running trial says it is alive, and the silence after which another worker takes it
# over (Optuna's heartbeat_interval and grace_period); the environment overrides them.
HEARTBEAT_SECONDS = int(os.environ.get("MEDGAN_ZOO_SWEEP_HEARTBEAT", "20"))
GRACE_SECONDS = int(os.environ.get("MEDGAN_ZOO_SWEEP_GRACE", "90"))


class StorageError(MedganZooError):
    """The study's storage cannot be opened or reached."""


def retry_callback():
    """Optuna's callback that re-enqueues a dead worker's trial (its params and attributes kept)."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            from optuna.storages import RetryHeartbeatStaleTrialCallback as Retry  # Optuna >= 4.9
        except ImportError:
            from optuna.storages import RetryFailedTrialCallback as Retry
        return Retry(max_retry=3, inherit_intermediate_values=True)


def quiet_optuna() -> None:
    """Optuna's own INFO lines and experimental-feature warnings would bury the sweep's lines."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # the heartbeat is driven by the worker's own thread (storage.record_heartbeat), not by optimize()
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")


def redact(url: str) -> str:
    """``url`` without its password, for messages and reports."""
    if "://" not in url:
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://", 1)[0] + "://..."


def _driver_url(url: str) -> str:
    """``postgresql://`` with whichever PostgreSQL driver is installed (psycopg 3 preferred)."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is not None:
            return f"postgresql+psycopg://{rest}"
        if importlib.util.find_spec("psycopg2") is not None:
            return f"postgresql+psycopg2://{rest}"
        raise StorageError("a postgresql:// storage needs a PostgreSQL driver: pip install 'medgan-zoo[postgresql]'")
    return url


class StudyStorage:
    """An opened storage: Optuna's object, how to name it, and its claim lock."""

    def __init__(self, url: str | None, folder: Path):
        quiet_optuna()
        self.folder = folder
        self.url = url or str(folder / JOURNAL)
        self.kind = "journal" if "://" not in self.url else self.url.split("://", 1)[0].split("+")[0]
        if self.kind == "journal":
            self.optuna = self._journal(Path(self.url).expanduser())
        elif self.kind in ("postgresql", "postgres", "sqlite"):
            self.optuna = self._rdb(self.url)
        else:
            raise ConfigError(f"storage {redact(self.url)!r}: use a journal file path (the default, one machine) "
                              "or postgresql://USER:PASSWORD@HOST:PORT/DATABASE (several machines)")

    @property
    def shown(self) -> str:
        return redact(self.url)

    @property
    def heartbeat_native(self) -> bool:
        return self.kind != "journal"

    def _journal(self, path: Path):
        from optuna.storages import JournalStorage

        from .journal import backend

        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock_path = path.with_name(path.name + ".claim")
        # open-based lock: it also works where symlinks do not (some shared filesystems); a failed
        # append is undone and a damaged journal repaired on open (search/journal.py)
        return JournalStorage(backend(path))

    def _rdb(self, url: str):
        from optuna.storages import RDBStorage

        if url.startswith("sqlite:///"):
            self.lock_path = Path(url.removeprefix("sqlite:///")).with_suffix(".claim")
        retry = retry_callback()
        kwargs: dict[str, Any] = {"heartbeat_interval": HEARTBEAT_SECONDS, "grace_period": GRACE_SECONDS}
        import inspect

        if "heartbeat_stale_trial_callback" in inspect.signature(RDBStorage.__init__).parameters:
            kwargs["heartbeat_stale_trial_callback"] = retry  # Optuna 5
        else:
            kwargs["failed_trial_callback"] = retry
        engine = {"connect_args": {"connect_timeout": 10}} if self.kind.startswith("postgres") else {}
        try:
            with self._schema_lock(_driver_url(url), engine):
                return RDBStorage(_driver_url(url), engine_kwargs=engine, **kwargs)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line, whatever the driver raised
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StorageError(f"cannot open the study storage {redact(url)}: {reason}") from None

    @contextlib.contextmanager
    def _schema_lock(self, url: str, engine_kwargs: dict[str, Any]) -> Iterator[None]:
        """Workers starting together on an empty PostgreSQL database would create Optuna's tables
        twice (a unique-constraint error): the first creates them under an advisory lock."""
        if not self.kind.startswith("postgres"):
            yield
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(url, **engine_kwargs)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key("schema")})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _lock_key("schema")})
                    connection.commit()
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def claim(self, study_name: str) -> Iterator[None]:
        """Hold the study's claim lock: one worker at a time counts trials and starts one."""
        if self.kind.startswith("postgres"):
            from sqlalchemy import text

            key = _lock_key(study_name)
            with self.optuna.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
            return
        with open(self.lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (64-bit) for ``name``."""
    return int.from_bytes(hashlib.sha256(f"medgan-zoo:{name}".encode()).digest()[:8], "big", signed=True)


def worker_id() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def alive(pid: int) -> bool:
    """Whether process ``pid`` on this machine still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its parent) is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stale_reason(attrs: dict[str, Any], now: float | None = None) -> str | None:
    """Why a RUNNING trial on a journal file is abandoned, or None while its worker lives.

    Same host: the worker's process id is gone. Any host (a shared filesystem): no heartbeat for
    ``GRACE_SECONDS``."""
    worker, beat = attrs.get("worker"), attrs.get("heartbeat")
    if not isinstance(worker, dict):
        return None
    if worker.get("host") == socket.gethostname() and not alive(int(worker.get("pid", 0))):
        return f"its worker (process {worker.get('pid')} on {worker.get('host')}) is gone"
    if isinstance(beat, (int, float)) and (now or time.time()) - beat > GRACE_SECONDS:
        return f"no heartbeat from {worker.get('host')}:{worker.get('pid')} for over {GRACE_SECONDS} s"
    return None
