"""``medgan_zoo.sweep(...)`` / ``medgan-zoo sweep run``: create or join a study and run workers."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..errors import ConfigError, MedganZooError
from .settings import (
    SETTINGS_ATTR,
    STUDY_FILE,
    SweepSettings,
    check_objectives_available,
    check_vgg,
    default_folder,
    differences,
    objective_directions,
)
from .space import SearchSpace, load_space
from .storage import StudyStorage

#: Share of the training subjects a sweep holds out to select on (``dataset.val_fraction``).
VAL_FRACTION = 0.2


@dataclass
class SweepResult:
    """What a ``sweep`` call leaves: the study, where it lives, and its trials as rows."""

    study: str
    storage: str
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    best: list[dict[str, Any]] = field(default_factory=list)


def held_out_objectives(objectives: list[str], metric_config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An objective whose metric compares against a real split of its choosing (a ``split`` config
    field: FID, KID, U-Net FD, PRDC) compares against the validation split in a sweep; test or all
    are refused (selecting on the number you report), train would reward memorising it."""
    from ..registry import get_registry

    out = dict(metric_config)
    for name in objectives:
        spec = get_registry().metrics[name]
        if "split" not in spec.config.model_fields:
            continue
        chosen = (out.get(name) or {}).get("split", "val")
        if chosen != "val":
            raise ConfigError(f"objective {name!r}: a sweep compares against the validation split; {name}.split="
                              f"{chosen!r} is refused (the test split is scored once, by `sweep best --evaluate`)")
        out[name] = {**(out.get(name) or {}), "split": "val"}
    return out


def sweep(gan: str, dataset: str, *, trials: int, study: str, storage: str | None = None,
          space: str | Path | None = None, objective: str | list[str] = "fid", workers: int = 1,
          devices: list[str] | None = None, resolution: int = 64, steps: int = 2000,
          fixed: dict[str, Any] | None = None, data_root: str | Path | None = None,
          dataset_config: dict[str, Any] | None = None, metric_config: dict[str, dict[str, Any]] | None = None,
          scale: Literal["quick", "paper"] = "paper", samples: int | None = None,
          sampler: Literal["tpe", "random", "grid"] = "tpe", pruner: Literal["median", "hyperband", "none"] = "median",
          startup_trials: int = 5, warmup_steps: int = 0, checkpoint_every: int = 500, seed: int = 0,
          out: str | Path | None = None, progress: bool = True) -> SweepResult:
    """Run (or join) the study ``study`` searching ``gan``'s configurations on ``dataset``.

    ``trials`` is the study's total of finished trials (completed, pruned or failed), whichever
    worker ran them; ``objective`` one metric name or two (FID and Dice: a two-objective study);
    ``space`` a YAML space file (None: the GAN's own space when its plugin ships one, else the
    paper's Table 1); ``fixed`` GAN config fields every
    trial uses (they leave the space); ``storage`` None for the journal file in ``out`` (default
    ``sweeps/STUDY``) or a ``postgresql://`` URL that workers on other machines join.
    """
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials!r}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    objectives = [o.strip() for o in objective.split(",")] if isinstance(objective, str) else list(objective)
    folder = Path(out) if out is not None else default_folder(study)
    from ..registry import get_registry

    get_registry().gans[gan]  # an unknown GAN or data set fails here, with suggestions
    loaded = load_space(space, gan)
    dataset_config = {"val_fraction": VAL_FRACTION, **(dataset_config or {})}
    if not dataset_config["val_fraction"]:
        raise ConfigError("a sweep selects models on a validation split: dataset.val_fraction must be above 0 "
                          f"(default {VAL_FRACTION}); the test split is scored once, by `sweep best --evaluate`")
    get_registry().datasets[dataset].make_config({"resolution": resolution, **dataset_config})
    metric_config = held_out_objectives(objectives, dict(metric_config or {}))
    fixed = dict(fixed or {})
    get_registry().gans[gan].make_config({"resolution": resolution, **fixed})  # a bad --set fails first
    loaded.check(gan, fixed)
    params = loaded.for_gan(gan, fixed)
    try:
        settings = SweepSettings(
            gan=gan, dataset=dataset, resolution=resolution, steps=steps, objectives=objectives,
            directions=objective_directions(objectives), fixed=fixed, dataset_config=dict(dataset_config or {}),
            metric_config=dict(metric_config or {}), scale=scale, samples=samples, sampler=sampler, pruner=pruner,
            startup_trials=startup_trials, warmup_steps=warmup_steps, checkpoint_every=checkpoint_every, seed=seed,
            space=json.loads(loaded.signature()), space_source=loaded.source)
    except ValidationError as exc:
        from ..specs import describe_validation_error

        raise ConfigError(f"invalid sweep settings: {describe_validation_error(exc, list(SweepSettings.model_fields))}"
                          ) from None
    if settings.sampler == "grid":
        from .worker import make_sampler

        make_sampler(settings, params, seed)  # refuses ranges before anything is created
    check_objectives_available(objectives)
    check_vgg(gan, params, fixed, {n: loaded.field(n) for n in loaded.parameters})
    opened = StudyStorage(storage, folder)
    folder.mkdir(parents=True, exist_ok=True)
    settings = open_study(opened, study, settings, params, loaded)
    (folder / STUDY_FILE).write_text(json.dumps(
        {"study": study, "storage": _portable(opened, folder), "journal": opened.kind == "journal",
         "settings": json.loads(settings.to_json())}, indent=2))
    if workers == 1:
        from .worker import Worker

        device = devices[0] if devices else None
        Worker(settings, loaded, opened, study, trials, folder, device, 0, progress,
               Path(data_root) if data_root else None).run()
    else:
        _run_processes(settings, loaded, storage, study, trials, folder, workers, devices, data_root, progress)
    from .status import study_rows

    rows, best = study_rows(opened, study)
    return SweepResult(study, opened.shown, folder, rows, best)


def _portable(storage: StudyStorage, folder: Path) -> str:
    """The storage as study.json records it: a journal inside the folder relative to it (the folder
    can move), any other absolute; a URL without its password."""
    if storage.kind != "journal":
        return storage.shown
    journal = Path(storage.url).expanduser().resolve()
    try:
        return str(journal.relative_to(folder.resolve()))
    except ValueError:
        return str(journal)


def open_study(storage: StudyStorage, name: str, settings: SweepSettings, params: dict[str, Any],
               space: SearchSpace):
    """Create the study (storing its settings, enqueueing the GAN's defaults) or join it,
    refusing one that exists with other settings."""
    import optuna

    with storage.claim(name):
        try:
            study = optuna.load_study(study_name=name, storage=storage.optuna)
        except KeyError:
            study = optuna.create_study(study_name=name, storage=storage.optuna, directions=settings.directions)
            study.set_user_attr(SETTINGS_ATTR, settings.to_json())
            defaults = _defaults(settings, params)
            if defaults:
                study.enqueue_trial(defaults, user_attrs={"default": True})
            return settings
        stored = SweepSettings.from_study(study.user_attrs, name)
        changed = differences(stored, settings)
        if changed:
            raise ConfigError(f"study {name!r} in {storage.shown} exists with other settings ("
                              + "; ".join(changed) + "); use another --study name, or the study's own settings")
        return stored


def _defaults(settings: SweepSettings, params: dict[str, Any]) -> dict[str, Any]:
    """The GAN's default configuration as the first trial's parameters (those the space has)."""
    from ..registry import get_registry

    config = get_registry().gans[settings.gan].make_config({"resolution": settings.resolution, **settings.fixed})
    out: dict[str, Any] = {}
    for name, p in params.items():
        value = getattr(config, p.field or name)
        if p.categorical:
            for i, v in enumerate(p.values):
                if v == value or (isinstance(v, list) and isinstance(value, (list, tuple)) and list(value) == v):
                    out[name] = p.token(i)
        elif value is not None and p.low <= value <= p.high:
            out[name] = value
    return out


# -- several local workers ----------------------------------------------------------------------------


def _worker_process(settings_json: str, space_source: str, storage: str | None, study: str, trials: int,
                    folder: str, device: str | None, index: int, data_root: str | None, threads: int) -> None:
    import os
    import signal

    import torch

    if not (device or "").startswith("cuda"):
        torch.set_num_threads(threads)  # K CPU workers share the cores instead of each taking all

    from .worker import Worker

    log = Path(folder) / "workers" / f"worker-{index}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "a", buffering=1)  # noqa: SIM115 - the process's stderr until it ends
    os.dup2(handle.fileno(), 2)
    sys.stderr = handle
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = SweepSettings.model_validate_json(settings_json)
    space = load_space(space_source)
    opened = StudyStorage(storage, Path(folder))
    Worker(settings, space, opened, study, trials, Path(folder), device, index, True,
           Path(data_root) if data_root else None).run()


def _run_processes(settings: SweepSettings, space: SearchSpace, storage: str | None, study: str, trials: int,
                   folder: Path, workers: int, devices: list[str] | None, data_root: Any, progress: bool) -> None:
    from .status import LiveTable

    context = multiprocessing.get_context("spawn")
    processes = []
    for i in range(workers):
        device = devices[i % len(devices)] if devices else None
        p = context.Process(target=_worker_process, name=f"medgan-zoo-sweep-{i}", args=(
            settings.to_json(), space.source, storage, study, trials, str(folder), device, i,
            str(data_root) if data_root else None, max(1, (os.cpu_count() or 1) // workers)))
        p.start()
        processes.append(p)
    table = LiveTable(folder, [p.pid for p in processes], enabled=progress)
    try:
        while any(p.is_alive() for p in processes):
            table.refresh()
            time.sleep(1.0)
    except KeyboardInterrupt:
        for p in processes:  # each worker checkpoints its trial and re-enqueues it
            p.join(timeout=120)
        from ..training.errors import TrainingInterrupted

        raise TrainingInterrupted("sweep interrupted: each worker's trial is enqueued again and resumes from its "
                                  "checkpoint with the same `medgan-zoo sweep run` command") from None
    finally:
        table.close()
    failed = [f"worker {i} (exit code {p.exitcode}, log {folder / 'workers' / f'worker-{i}.log'})"
              for i, p in enumerate(processes) if p.exitcode]
    if failed:
        raise MedganZooError("sweep worker(s) stopped with an error: " + "; ".join(failed))
