"""A study's state: trial rows, the best trials, live worker lines (``sweep status``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .settings import STUDY_FILE, SweepSettings, default_folder
from .storage import StudyStorage
from .trials import count, rows

STALE_LINE_SECONDS = 120


def open_existing(name: str, storage: str | None = None, folder: str | Path | None = None) -> tuple[
        StudyStorage, Path, SweepSettings]:
    """The study ``name``: its folder (default ``sweeps/NAME``), storage and settings."""
    import optuna

    path = Path(folder) if folder is not None else default_folder(name)
    record = path / STUDY_FILE
    if storage is None:
        if not record.exists():
            raise ConfigError(f"no study {name!r} in {path} (no {STUDY_FILE}); pass --out FOLDER or --storage URL")
        saved = json.loads(record.read_text())
        if not saved.get("journal"):
            raise ConfigError(f"study {name!r} lives in {saved['storage']}: pass --storage with its URL "
                              "(the password is not stored)")
        storage = str(path / saved["storage"])  # the journal it was run with (relative: inside the folder)
    opened = StudyStorage(storage, path)
    try:
        study = optuna.load_study(study_name=name, storage=opened.optuna)
    except KeyError:
        raise ConfigError(f"no study {name!r} in {opened.shown}") from None
    return opened, path, SweepSettings.from_study(study.user_attrs, name)


def study_rows(opened: StudyStorage, name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every trial as a row, and the best rows (one; the Pareto front for two objectives)."""
    import optuna

    study = optuna.load_study(study_name=name, storage=opened.optuna)
    settings = SweepSettings.from_study(study.user_attrs, name)
    trials = study.get_trials(deepcopy=False)
    table = rows(trials, settings.objectives)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return table, []
    best_numbers = {t.number for t in study.best_trials} if settings.multi else {study.best_trial.number}
    return table, [r for r in table if r["trial"] in best_numbers]


def status_text(name: str, storage: str | None = None, folder: str | Path | None = None) -> str:
    """What ``sweep status`` prints: counts, best, live workers, and every trial."""
    import optuna

    opened, path, settings = open_existing(name, storage, folder)
    study = optuna.load_study(study_name=name, storage=opened.optuna)
    trials = study.get_trials(deepcopy=False)
    table, best = study_rows(opened, name)
    lines = [f"study {name} ({opened.shown}): {settings.gan} on {settings.dataset} at {settings.resolution}px, "
             f"{settings.steps} steps per trial; objective {', '.join(settings.objectives)} "
             f"({', '.join(settings.directions)})",
             f"trials: {count(trials).summary()}"]
    for row in best:
        values = ", ".join(f"{m} {row[m]:.4g}" for m in settings.objectives if row.get(m) is not None)
        lines.append(f"best: trial {row['trial']} ({values}) in {path / row['folder']}")
    running = any(t.state.name == "RUNNING" for t in trials)
    live = worker_lines(path, running=running)
    if live:
        lines += ["workers:"] + [f"  {line}" for line in live]
    lines += ["", format_table(table, settings.objectives)]
    return "\n".join(lines)


def worker_lines(folder: Path, now: float | None = None, running: bool | None = None) -> list[str]:
    """A line per worker that wrote lately; one whose process is gone (this machine), whose heartbeat
    is older than the grace period, or that says it runs a trial while the study runs none, is dead."""
    import socket

    from .storage import GRACE_SECONDS, alive

    out = []
    for f in sorted((folder / "workers").glob("*.json")):
        try:
            w = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        age = (now or time.time()) - float(w.get("updated", 0))
        if w.get("state") == "stopped" or age > STALE_LINE_SECONDS * 10:
            continue
        where = f"{w.get('host')}:{w.get('pid')}" + (f" {w['device']}" if w.get("device") else "")
        parts = [f"worker {w.get('worker')} ({where})"]
        if w.get("trial") is not None:
            parts.append(f"trial {w['trial']}")
        if w.get("step") is not None:
            parts.append(f"step {w['step']}")
        if w.get("objective") is not None:
            parts.append(f"objective {w['objective']:.4g}")
        dead = None
        if w.get("host") == socket.gethostname() and w.get("pid") and not alive(int(w["pid"])):
            dead = "its process is gone"
        elif age > GRACE_SECONDS:
            dead = f"no heartbeat for {age:.0f} s"
        elif running is False and w.get("state") in ("training", "evaluating"):
            dead = "the study runs no trial"
        parts.append(f"dead ({dead})" if dead else str(w.get("state", "")))
        if not dead and age > STALE_LINE_SECONDS:
            parts.append(f"(silent {age:.0f} s)")
        out.append(" ".join(parts))
    return out


def format_table(table: list[dict[str, Any]], objectives: list[str]) -> str:
    """The trials as a Markdown table (objectives, state, parameters, time)."""
    if not table:
        return "(no trials yet)"
    params = sorted({k for r in table for k in r if k.startswith("param:")})
    head = ["trial", "state", *objectives, *[p.removeprefix("param:") for p in params], "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in table:
        cells = [str(r["trial"]) + (f" (retry of {r['retry_of']})" if "retry_of" in r else ""), r["state"]]
        cells += ["" if r.get(m) is None else f"{r[m]:.4g}" for m in objectives]
        cells += [str(r.get(p, "")) for p in params]
        cells.append("" if r.get("seconds") is None else f"{r['seconds']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class LiveTable:
    """One line per local worker process, refreshed while they run (rich in a terminal, plain
    lines every 30 s otherwise), and the study's summary at the end."""

    def __init__(self, folder: Path, pids: list[int | None], enabled: bool = True, interval: float = 30.0):
        self.folder, self.pids, self.enabled, self.interval = folder, pids, enabled, interval
        self._last = 0.0
        self._live: Any = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live("", console=Console(file=sys.stderr), refresh_per_second=1)
            self._live.start()

    def refresh(self) -> None:
        if not self.enabled:
            return
        lines = worker_lines(self.folder) or ["starting workers..."]
        if self._live is not None:
            self._live.update("\n".join(lines))
        elif time.monotonic() - self._last >= self.interval:
            self._last = time.monotonic()
            print("\n".join(lines), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
