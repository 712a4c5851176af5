"""What a study is: fixed when it is created, stored with it, checked when a worker joins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError

SETTINGS_ATTR = "medgan_zoo.sweep"  # the study's user attribute holding these settings
FORMAT = 1
STUDY_FILE = "study.json"  # in the study folder: how `sweep status/report/best NAME` find it


def default_folder(study: str) -> Path:
    """Where a study lives unless told: ``sweeps/NAME``."""
    return Path("sweeps") / study


class SweepSettings(BaseModel):
    """Everything that decides what a trial computes. Workers that join must agree on it."""

    model_config = ConfigDict(extra="forbid")

    gan: str
    dataset: str
    resolution: int = Field(default=64, ge=4)
    steps: int = Field(default=2000, ge=1, description="Generator steps per trial.")
    objectives: list[str] = Field(default=["fid"], min_length=1, max_length=2)
    directions: list[Literal["minimize", "maximize"]] = Field(default=["minimize"])
    fixed: dict[str, Any] = Field(default_factory=dict, description="GAN config fields set for every trial.")
    dataset_config: dict[str, Any] = Field(default_factory=dict)
    metric_config: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scale: Literal["quick", "paper"] = "paper"
    samples: int | None = Field(default=None, ge=2, description="Generated samples per evaluation (None: the scale's).")
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
    startup_trials: int = Field(default=5, ge=0, description="Trials finished before the median pruner prunes.")
    warmup_steps: int = Field(default=0, ge=0, description="Steps of a trial before it can be pruned.")
    checkpoint_every: int = Field(default=500, ge=1, description="Steps between checkpoints and intermediate scores.")
    seed: int = Field(default=0, ge=0, description="Trial k trains with seed + k; samplers are seeded from it.")
    space: dict[str, Any] = Field(description="The search space as loaded (parameters).")
    space_source: str = ""
    format: int = FORMAT

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def prunes(self) -> bool:
        return self.pruner != "none" and not self.multi

    def identity(self) -> dict[str, Any]:
        """The fields a joining worker must share (the trial count and sources may differ)."""
        return self.model_dump(mode="json", exclude={"space_source", "format"})

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_study(cls, attrs: dict[str, Any], name: str) -> SweepSettings:
        raw = attrs.get(SETTINGS_ATTR)
        if raw is None:
            raise ConfigError(f"study {name!r} was not created by medgan-zoo sweep (no {SETTINGS_ATTR} attribute)")
        return cls.model_validate(json.loads(raw) if isinstance(raw, str) else raw)


def differences(stored: SweepSettings, given: SweepSettings) -> list[str]:
    """``field: stored -> given`` for each identity field that differs."""
    a, b = stored.identity(), given.identity()
    out = []
    for key in a:
        if a[key] != b[key]:
            left, right = json.dumps(a[key], default=str), json.dumps(b[key], default=str)
            if len(left) > 60 or len(right) > 60:
                left, right = "(one value)", "(another)"
            out.append(f"{key}: {left} -> {right}")
    return out


def objective_directions(objectives: list[str]) -> list[Literal["minimize", "maximize"]]:
    """Each objective's direction from its metric's spec (``better``); unknown names fail with hints."""
    from ..registry import get_registry

    metrics = get_registry().metrics
    out: list[Literal["minimize", "maximize"]] = []
    for name in objectives:
        spec = metrics[name]
        out.append("minimize" if spec.better == "lower" else "maximize")
    if len(set(objectives)) != len(objectives):
        raise ConfigError(f"objective {','.join(objectives)} names a metric twice")
    return out


def check_objectives_available(objectives: list[str]) -> None:
    """Refuse, before any training, an objective this worker cannot compute (e.g. FID without
    Inception weights), saying how to provide what is missing."""
    from ..registry import get_registry

    for name in objectives:
        reason = get_registry().metrics[name].unavailable()
        if reason:
            raise ConfigError(f"objective {name!r} cannot be computed on this machine: {reason}; this worker does "
                              "not join the study")


def check_vgg(gan: str, space_params: dict[str, Any], fixed: dict[str, Any], field_of: dict[str, str]) -> None:
    """A space that may set ``vgg_weight > 0`` needs VGG-19 weights before the first trial."""
    weight_params = [n for n, f in field_of.items() if f == "vgg_weight" and n in space_params]
    wants = float(fixed.get("vgg_weight", 0) or 0) > 0 or any(
        any(float(v or 0) > 0 for v in (space_params[n].values or [space_params[n].high])) for n in weight_params)
    if not wants:
        return
    from ..gans.vgg import find_vgg_weights

    try:
        find_vgg_weights(Path(fixed["vgg_weights"]) if fixed.get("vgg_weights") else None)
    except Exception as exc:  # noqa: BLE001 - the message says what to do
        raise ConfigError(f"the search space lets {gan} use the VGG loss: {exc}; or fix it off with "
                          "--set vgg_weight=0") from None
