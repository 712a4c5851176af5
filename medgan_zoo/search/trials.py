"""Reading a study's trials: which count as finished, which were retried, one row per trial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState


def retried_numbers(trials: list[FrozenTrial]) -> set[int]:
    """Trials another trial took over (a dead or interrupted worker's): they do not count."""
    out: set[int] = set()
    for t in trials:
        out.update(int(n) for n in t.system_attrs.get("retry_history", []))
    return out


def original_number(trial: FrozenTrial) -> int:
    """The trial number a retry stands for (its folder and seed): the first failed attempt's."""
    failed = trial.system_attrs.get("failed_trial")
    return int(failed) if failed is not None else trial.number


@dataclass
class Counts:
    finished: int  # completed, pruned, or failed for good
    running: int
    waiting: int  # enqueued: the default configuration, retries

    def summary(self) -> str:
        return f"{self.finished} finished, {self.running} running, {self.waiting} waiting"


def count(trials: list[FrozenTrial]) -> Counts:
    retried = retried_numbers(trials)
    finished = sum(1 for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                   or (t.state == TrialState.FAIL and t.number not in retried))
    running = sum(1 for t in trials if t.state == TrialState.RUNNING)
    waiting = sum(1 for t in trials if t.state == TrialState.WAITING)
    return Counts(finished, running, waiting)


def state_name(trial: FrozenTrial, retried: set[int]) -> str:
    if trial.state == TrialState.FAIL and trial.number in retried:
        return "retried"
    return trial.state.name.lower()


def rows(trials: list[FrozenTrial], objectives: list[str]) -> list[dict[str, Any]]:
    """One flat row per trial: number, state, objective values, parameters, time, folder, reason."""
    retried = retried_numbers(trials)
    out = []
    for t in trials:
        row: dict[str, Any] = {"trial": t.number, "state": state_name(t, retried)}
        if original_number(t) != t.number:
            row["retry_of"] = original_number(t)
        values = t.values or []
        for i, name in enumerate(objectives):
            row[name] = values[i] if i < len(values) else None
        if t.state in (TrialState.PRUNED, TrialState.FAIL) and t.intermediate_values:
            step = max(t.intermediate_values)  # its last score (pruned, or failed after a checkpoint)
            row[objectives[0]] = t.intermediate_values[step]
            row["pruned_at" if t.state == TrialState.PRUNED else "failed_at"] = step
        row.update({f"param:{k}": v for k, v in t.params.items()})
        if t.datetime_start and t.datetime_complete:
            row["seconds"] = round((t.datetime_complete - t.datetime_start).total_seconds(), 1)
        row["folder"] = t.user_attrs.get("folder", "")
        if t.user_attrs.get("fail_reason"):
            row["reason"] = t.user_attrs["fail_reason"]
        out.append(row)
    return out
