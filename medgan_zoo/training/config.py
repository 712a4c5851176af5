"""Everything a training run needs, validated and recorded in the run's config.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

RUN_CONFIG = "train.json"  # in the run folder: the run's TrainConfig
DEFAULT_STEPS = 2000  # a run that names no length, of a GAN that has none of its own


class TrainConfig(BaseModel):
    """A training run: which GAN on which data, for how long, and how it reports."""

    model_config = ConfigDict(extra="forbid")

    gan: str = Field(description="Registered GAN name, e.g. 'dcgan'.")
    dataset: str = Field(description="Registered dataset name, e.g. 'acdc-phantom'.")
    data_root: Path | None = Field(default=None, description="Folder of a real data set.")
    resolution: int = Field(default=64, description="Training resolution (the GAN must support it).")
    steps: int | None = Field(
        default=None, ge=1,
        description="Generator updates. None: a resumed run's own; else the GAN's own length (StyleGAN2: kimg); "
        f"else {DEFAULT_STEPS}.")
    seed: int = Field(default=0, ge=0, description="Seeds initialisation, batches, noise and augmentation.")
    gan_config: dict[str, Any] = Field(default_factory=dict, description="GAN config fields (Table 1 knobs).")
    dataset_config: dict[str, Any] = Field(default_factory=dict, description="Dataset config fields.")
    device: str | None = Field(default=None, description="'cpu', 'cuda', 'cuda:1'...; None: CUDA when available.")
    log_every: int = Field(default=50, ge=1, description="Steps between metrics rows (and host syncs).")
    check_every: int = Field(default=50, ge=1, description="Steps between NaN/divergence checks.")
    sample_every: int = Field(default=500, ge=1, description="Steps between sample grids.")
    checkpoint_every: int = Field(default=500, ge=1, description="Steps between checkpoints.")
    divergence_threshold: float = Field(default=1e5, gt=0, description="|loss| above this counts as divergence.")
    tensorboard: bool = Field(default=False, description="Also log to TensorBoard (needs the tensorboard package).")
    compile: bool = Field(default=False, description="torch.compile the networks (GPU runs).")
    progress: bool = Field(default=True, description="Show a progress bar.")
    world_size: int = Field(default=1, ge=1, description="Ranks the run trained on (set by the engine under torchrun).")
    per_rank_batch: int | None = Field(default=None, description="Batch of each rank (set by the engine; "
                                       "the GAN's batch_size stays the global batch).")
    callback_plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Callback plugins to add, name -> config fields ({} for the defaults); "
        "`medgan-zoo plugins` lists the installed ones.")
    sync_batchnorm: bool = Field(default=True, description="Under torchrun, batch norms use the global batch's "
                                 "statistics (as one process); false: each rank's own, averaged at checkpoints.")


def make_train_config(values: dict[str, Any]) -> TrainConfig:
    """Validate training settings; errors name the field (with a spelling hint) in one line."""
    from pydantic import ValidationError

    from ..errors import ConfigError
    from ..specs import describe_validation_error

    try:
        return TrainConfig.model_validate(values)
    except ValidationError as exc:
        fields = list(TrainConfig.model_fields)
        raise ConfigError(f"invalid training settings: {describe_validation_error(exc, fields)}") from None


#: Fields a resumed run may change without changing what it computes.
RESUMABLE_CHANGES = frozenset(
    {"steps", "log_every", "sample_every", "checkpoint_every", "progress", "tensorboard", "device", "data_root",
     "world_size", "per_rank_batch", "sync_batchnorm", "callback_plugins"}
)
