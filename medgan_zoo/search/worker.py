"""A sweep worker: claims trials of a study until it has its number of finished trials.

A trial is an ordinary run folder (``trials/NNNN-HASH``) trained by the ordinary engine. Its
objective is scored at every checkpoint and reported to Optuna, whose pruner may stop it; a
diverged run is a failed trial with its reason; an interrupted or dead worker's trial is failed and
re-enqueued (Optuna's ``RetryFailedTrialCallback``), and the retry resumes the same folder from
its checkpoint.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import Trial, TrialState

from ..errors import MedganZooError
from ..jsonsafe import dumps
from ..progress import say, stage_context
from .settings import SweepSettings
from .space import Parameter, SearchSpace
from .storage import HEARTBEAT_SECONDS, StudyStorage, retry_callback, stale_reason, worker_id
from .trials import count, original_number

POLL_SECONDS = 5.0
LOG = "sweep.log"


class ObjectiveFailed(MedganZooError):
    """A trial's objective could not be scored (the metric raised, or gave no value): the trial fails."""


def make_sampler(settings: SweepSettings, params: dict[str, Parameter], seed: int) -> optuna.samplers.BaseSampler:
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if settings.sampler == "grid":
        ranged = [n for n, p in params.items() if not p.categorical]
        if ranged:
            from ..errors import ConfigError

            raise ConfigError(f"the grid sampler needs listed values; {', '.join(ranged)} are ranges")
        return optuna.samplers.GridSampler({n: p.choices() for n, p in params.items()}, seed=seed)
    # constant_liar: parallel workers do not all propose next to the same running trial
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def make_pruner(settings: SweepSettings) -> optuna.pruners.BasePruner:
    if not settings.prunes:
        return optuna.pruners.NopPruner()
    if settings.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=settings.checkpoint_every, max_resource=settings.steps)
    return optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials, n_warmup_steps=settings.warmup_steps)


def suggest(trial: Trial, name: str, p: Parameter) -> Any:
    if p.categorical:
        return p.value_of(trial.suggest_categorical(name, p.choices()))
    assert p.low is not None and p.high is not None
    if p.integer:
        return trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
    return trial.suggest_float(name, p.low, p.high, log=p.log)


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]


class Worker:
    """One process's share of a study."""

    def __init__(self, settings: SweepSettings, space: SearchSpace, storage: StudyStorage, study_name: str,
                 trials: int, out: Path, device: str | None = None, index: int = 0, progress: bool = True,
                 data_root: Path | None = None):
        self.settings, self.space, self.storage, self.name = settings, space, storage, study_name
        self.total, self.out, self.device, self.index = trials, out, device, index
        self.progress, self.data_root = progress, data_root
        self.params = space.for_gan(settings.gan, settings.fixed)
        self.me = worker_id()
        self.status_file = out / "workers" / f"{self.me['host']}-{self.me['pid']}.json"
        self.done: list[int] = []
        existing = len(optuna.load_study(study_name=study_name, storage=storage.optuna).trials)
        self.study = optuna.load_study(study_name=study_name, storage=storage.optuna,
                                       sampler=make_sampler(settings, self.params, settings.seed + index + existing),
                                       pruner=make_pruner(settings))

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> list[int]:
        """Run trials until the study has ``trials`` finished ones; returns the trials run here."""
        self._status(state="starting")
        try:
            while True:
                action, trial = self._claim()
                if action == "done":
                    break
                if trial is None:
                    self._status(state="waiting for other workers' trials")
                    time.sleep(min(POLL_SECONDS, HEARTBEAT_SECONDS))
                    continue
                self._run_trial(trial)
        finally:
            self._status(state="stopped")
        return self.done

    def _claim(self) -> tuple[str, Trial | None]:
        """("run", a trial), ("done", None), or ("wait", None) while other workers' running trials
        may still fail and need running again."""
        with self.storage.claim(self.name):
            self._reclaim_stale()
            counts = count(self.study.get_trials(deepcopy=False))
            if counts.finished >= self.total:
                return "done", None
            if counts.waiting == 0 and counts.finished + counts.running >= self.total:
                return "wait", None
            trial = self.study.ask()
            trial.set_user_attr("worker", self.me)
            trial.set_user_attr("heartbeat", time.time())
            if self.study._storage.get_trial(trial._trial_id).user_attrs.get("fail_reason"):
                trial.set_user_attr("fail_reason", None)  # a retry inherits the dead attempt's attributes
            return "run", trial

    def _reclaim_stale(self) -> None:
        """Fail the trials of workers that died, and enqueue them again (their folder is kept)."""
        if self.storage.heartbeat_native:
            optuna.storages.fail_stale_trials(self.study)  # Optuna's heartbeat and retry callback
            return
        retry = retry_callback()
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            reason = stale_reason(t.user_attrs)
            if reason is None and "worker" not in t.user_attrs and t.datetime_start is not None:
                started = t.datetime_start.timestamp()
                if time.time() - started > 4 * HEARTBEAT_SECONDS:  # died between claiming and marking it
                    reason = "its worker never marked it"
            if reason is None:
                continue
            storage = self.study._storage
            storage.set_trial_user_attr(t._trial_id, "fail_reason", f"taken over: {reason}")
            try:
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # another worker was first
            retry(self.study, storage.get_trial(t._trial_id))
            self._log(f"trial {t.number}: {reason}; it will be run again, resuming its folder")

    # -- one trial ------------------------------------------------------------------------------

    def _run_trial(self, trial: Trial) -> None:
        from ..training.checkpoint import CHECKPOINT
        from ..training.engine import train
        from ..training.errors import DivergenceError, TrainingInterrupted

        s = self.settings
        frozen = self.study._storage.get_trial(trial._trial_id)
        number = original_number(frozen)
        chosen = {name: suggest(trial, name, p) for name, p in self.params.items()}
        config = {**s.fixed, **{self.space.field(name): value for name, value in chosen.items()}}
        folder_name = frozen.user_attrs.get("folder") or f"trials/{number:04d}-{config_hash(config)}"
        folder = self.out / folder_name
        trial.set_user_attr("folder", folder_name)
        trial.set_user_attr("config", json.loads(json.dumps(config, default=str)))
        resume = (folder / "checkpoints" / CHECKPOINT).exists()
        again = f" (again, for trial {number}{', resuming its checkpoint' if resume else ''})" \
            if number != trial.number else ""
        self._log(f"trial {trial.number}{again}: {self._describe(chosen)}")
        self._status(trial=trial.number, step=0, state="training")
        beat = _Heartbeat(self.study, trial, self.storage.heartbeat_native)

        def scored(step: int, model) -> None:
            beat.check()
            value = self._score(model, final=False, folder=None)[0]
            trial.report(value, step)
            self._status(trial=trial.number, step=step, objective=value, state="training")
            self._log(f"trial {trial.number} step {step}: {s.objectives[0]} {value:.4g}")
            if trial.should_prune():
                raise optuna.TrialPruned(f"{s.objectives[0]} {value:.4g} at step {step}")

        try:
            with beat:
                beat.check()
                train(s.gan, s.dataset, out=folder, data_root=self.data_root, resolution=s.resolution,
                      steps=s.steps, resume=resume, gan_config=config, dataset_config=s.dataset_config,
                      on_checkpoint=scored if s.prunes else None, seed=s.seed + number,
                      checkpoint_every=s.checkpoint_every, sample_every=s.checkpoint_every,
                      device=self.device, progress=self.progress)
                self._status(trial=trial.number, step=s.steps, state="evaluating")
                values = self._score(None, final=True, folder=folder)
                beat.check()
        except optuna.TrialPruned as exc:
            self.study.tell(trial, state=TrialState.PRUNED)
            self._finished(trial, f"pruned: {exc}")
            return
        except (DivergenceError, ObjectiveFailed) as exc:  # this trial failed; the study goes on
            trial.set_user_attr("fail_reason", str(exc))
            self.study.tell(trial, state=TrialState.FAIL)
            self._finished(trial, f"failed: {exc}")
            return
        except (TrainingInterrupted, KeyboardInterrupt) as exc:
            trial.set_user_attr("fail_reason", f"interrupted: {exc}")
            self.study.tell(trial, state=TrialState.FAIL)
            retry_callback()(self.study, self.study._storage.get_trial(trial._trial_id))
            advice = (f"trial {trial.number} interrupted; it is enqueued again and resumes from its checkpoint "
                      "with the same `medgan-zoo sweep run` command (no --resume: the study continues by itself)")
            self._log(advice)
            raise TrainingInterrupted(advice) from None
        except TakenOver as exc:
            self._log(f"trial {trial.number}: {exc}; going on with the next one")
            return
        except Exception as exc:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
                self.study.tell(trial, state=TrialState.FAIL)
            raise
        if s.prunes:
            trial.report(values[0], s.steps)
        self.study.tell(trial, values)
        shown = ", ".join(f"{m} {v:.4g}" for m, v in zip(s.objectives, values, strict=True))
        self._finished(trial, f"complete: {shown}")

    def _score(self, model, *, final: bool, folder: Path | None) -> list[float]:
        from ..evaluation.harness import evaluate, failures
        from ..model import load

        s = self.settings
        source = model
        if source is None:
            assert folder is not None
            source = load(folder, device=self.device)
        with stage_context(self.out / LOG):  # the long stages (a U-Net's training) speak, into sweep.log too
            results = evaluate(source, s.dataset, list(s.objectives), n=s.samples, scale=s.scale,
                               data_root=self.data_root, dataset_config=s.dataset_config,
                               metric_config={k: v for k, v in s.metric_config.items() if k in s.objectives},
                               seed=s.seed, device=self.device, split="val",
                               out=(folder / "evaluation") if final and folder is not None else None, progress=False,
                               stages=self.progress, strict=False)
        failed = failures(results)
        if failed:
            raise ObjectiveFailed("objective " + "; ".join(f"{m}: {why}" for m, why in failed.items()))
        values = [results[m]["headline"]["value"] for m in s.objectives]
        if any(v is None for v in values):
            missing = [m for m, v in zip(s.objectives, values, strict=True) if v is None]
            raise ObjectiveFailed(f"objective {', '.join(missing)} gave no value: "
                                  f"{results[missing[0]].get('note') or 'no reason given'}")
        return [float(v) for v in values]

    # -- reporting ------------------------------------------------------------------------------

    def _describe(self, chosen: dict[str, Any]) -> str:
        if not chosen:
            return "the fixed configuration"
        return " ".join(f"{k}={self.params[k].label_of(v)}" for k, v in chosen.items())

    def _finished(self, trial: Trial, outcome: str) -> None:
        self.done.append(trial.number)
        counts = count(self.study.get_trials(deepcopy=False))
        self._log(f"trial {trial.number} {outcome} [{counts.finished}/{self.total} finished]")
        self._status(trial=trial.number, state=outcome)

    def _log(self, message: str) -> None:
        say(f"[worker {self.index}] {message}", enabled=True, log=self.out / LOG)

    def _status(self, **fields: Any) -> None:
        """This worker's live line, read by the parent process and by ``sweep status``."""
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        record = {"worker": self.index, **self.me, "device": self.device, "updated": time.time(), **fields}
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(dumps(record))
        tmp.replace(self.status_file)


class TakenOver(Exception):
    """Another worker declared this trial dead and runs it again: this worker drops it."""


class _Heartbeat(contextlib.AbstractContextManager):
    """Tells the storage this trial is alive while it trains (Optuna's heartbeat on an RDB; a
    time stamp in the trial's attributes on a journal file)."""

    def __init__(self, study: optuna.Study, trial: Trial, native: bool):
        self.study, self.trial, self.native = study, trial, native
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.error: BaseException | None = None

    def _beat(self) -> None:
        storage = self.study._storage
        if self.native:
            storage.record_heartbeat(self.trial._trial_id)  # type: ignore[attr-defined]
        else:
            storage.set_trial_user_attr(self.trial._trial_id, "heartbeat", time.time())

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._beat()
            except optuna.exceptions.UpdateFinishedTrialError as exc:
                self.error = exc  # another worker took the trial over: stop at the next checkpoint
                return
            except Exception:  # noqa: BLE001 - a missed beat is retried next time
                continue

    def check(self) -> None:
        if self.error is not None:
            raise TakenOver(f"trial {self.trial.number} was taken over by another worker (no heartbeat for "
                            "too long)") from self.error

    def __enter__(self) -> _Heartbeat:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

