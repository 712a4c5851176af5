"""One training loop for every GAN plugin: it trains a step at a time and fires events; callbacks
(:mod:`.callbacks`, the user's, plugins') do everything else (docs/training.md).

The whole training split lives on the device as one joint tensor; batches, noise and augmentation
draw from one seeded generator whose state is checkpointed, so ``resume`` continues the same
schedule (bit for bit on the CPU). Losses stay on the device and are read back only when a
callback needs them (every ``log_every``/``check_every`` steps).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..device import resolve_device
from ..errors import ConfigError
from ..gans.base import GAN, StepContext, joint_from_pairs
from ..gans.config import CriticSteps, DiffAugmentOption, PairAugmentOptions
from ..handover import calling, check_logs
from .callback import Callbacks, TrainControl, TrainState, check_callbacks
from .callbacks import builtin_callbacks
from .callbacks.metrics_log import MetricsCsv
from .config import DEFAULT_STEPS, TrainConfig, make_train_config
from .errors import CallbackError, DivergenceError, TrainingInterrupted
from .resume import check_resume, restore

__all__ = ["CallbackError", "DivergenceError", "TrainResult", "Trainer", "TrainingInterrupted", "train"]


@dataclass
class TrainResult:
    """A finished run. ``seconds`` and ``images_per_second`` cover the whole run, resumed parts
    included; ``resumed_from`` lists the steps it was resumed at."""

    out: Path
    steps: int
    seconds: float
    images_per_second: float
    last_metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: list[int] = field(default_factory=list)

    def load(self):
        from ..model import load

        return load(self.out)


def _device(name: str | None) -> torch.device:
    return resolve_device(name)


class Trainer:
    """Sets a run up (data on the device, the GAN, torchrun's ranks) and runs the loop.

    ``callbacks`` are the user's (:class:`~medgan_zoo.Callback` or any object with ``on_EVENT``
    methods); ``config.callback_plugins`` names callback plugins. ``on_checkpoint(step, model)`` is the
    search's hook (see :class:`.callbacks.CheckpointHook`)."""

    def __init__(self, config: TrainConfig, out: Path, resume: bool = False,
                 on_checkpoint: Callable[[int, Any], None] | None = None, callbacks: Sequence[object] = ()):
        self.config, self.out, self.resume = config, Path(out), resume
        self.on_checkpoint = on_checkpoint
        check_callbacks(callbacks)
        self.user_callbacks = list(callbacks)
        self.ranks: Any = None  # distributed.Ranks under torchrun
        self.device = _device(config.device)
        self.cuda = self.device.type == "cuda"

    # -- set-up ---------------------------------------------------------------------------------

    def setup(self) -> None:
        from ..factory import create_gan, load_dataset
        from ..registry import get_registry

        c = self.config
        spec = get_registry().gans[c.gan]  # unknown names fail before any data is prepared
        if c.resolution not in spec.resolutions:
            raise ConfigError(f"{spec.label} supports resolutions {list(spec.resolutions)}, not {c.resolution}")
        self.recorded = check_resume(c, self.out, self.resume)
        self.plugin_callbacks = self._plugin_callbacks()
        self.dataset = load_dataset(c.dataset, c.data_root, "train", c.resolution, **c.dataset_config)
        if spec.conditional and self.dataset.info.get("masks") is False:
            raise ConfigError(f"{spec.label} paints images for masks: {c.dataset} was loaded without masks "
                              "(masks=false); train an unconditional GAN on images only")
        torch.manual_seed(c.seed)
        gan_config = {"resolution": c.resolution, "image_channels": self.dataset.channels,
                      "num_classes": len(self.dataset.label_map), **c.gan_config}
        self.groups: torch.Tensor | None = None
        if self._class_conditional(spec):
            gan_config.update(self._classes())
        self.gan_label = spec.label
        if self.resume:
            gan_config = self._resumed_gan_config(gan_config, spec)
        self.gan: GAN = create_gan(c.gan, **gan_config).to(self.device)
        steps, self.length = self._length()
        self.config = c = c.model_copy(update={"steps": steps})
        if self.cuda:
            self.gan.to(memory_format=torch.channels_last)
        self.gan.configure_optimizers()
        if c.compile:  # in place, so state_dict keys (checkpoints, exports) stay the same
            self.gan.generator.compile()
            if self.gan.discriminator is not None:
                self.gan.discriminator.compile()
        gc = self.gan.config
        data = joint_from_pairs(self.dataset.images, self.dataset.masks, gc.num_classes).to(self.device)
        self.data = data.contiguous(memory_format=torch.channels_last) if self.cuda else data
        self.gan.prepare_training(self.data)
        self.rng = torch.Generator(device=self.device).manual_seed(c.seed)
        self.augment = self.diffaugment = None
        from .augment import DiffAugment, PairAugment

        if isinstance(gc, PairAugmentOptions) and gc.augment:
            self.augment = PairAugment(gc.image_channels, gc.augment_rotate, gc.augment_translate,
                                       gc.augment_scale, gc.augment_flip_lr)
        if isinstance(gc, DiffAugmentOption) and gc.diffaugment:
            self.diffaugment = DiffAugment(tuple(gc.diffaugment), gc.image_channels)

    def _resumed_gan_config(self, given: dict[str, Any], spec) -> dict[str, Any]:
        """A resumed run's GAN config: every field as its checkpoint recorded it (conventions
        included), so the run continues as it started; a checkpoint written before checkpoints
        recorded it gives the run's own settings with the values such runs ran with
        (``GanConfig.resumed_unrecorded``)."""
        from .checkpoint import CHECKPOINT, read_checkpoint_meta

        recorded = read_checkpoint_meta(self.out / "checkpoints" / CHECKPOINT).get("gan_config")
        if isinstance(recorded, dict):
            return recorded
        return spec.config.resumed_unrecorded(given)

    def _length(self) -> tuple[int, str]:
        """The run's steps and where they come from: given; a resumed run's own; the GAN's own
        length (StyleGAN2's kimg); the default."""
        given, own = self.config.steps, self.gan.config.training_steps()
        if given is not None:
            hint = own and own[0] != given and self.recorded is None  # a resumed run's default is its own end
            other = f"; without --steps: {own[0]:,} steps from {own[1]}" if hint else ""
            return given, f"{given:,} steps, as given{other}"
        if self.recorded is not None and self.recorded.get("steps"):
            steps = int(self.recorded["steps"])
            return steps, f"{steps:,} steps, as the run was started (--steps sets another)"
        if own is not None:
            return own[0], f"{own[0]:,} steps from {own[1]} (--steps sets another)"
        return DEFAULT_STEPS, f"{DEFAULT_STEPS:,} steps, the default (--steps sets another)"

    def _plugin_callbacks(self) -> list[object]:
        """The callback plugins named in ``config.callback_plugins``, each labelled with its spec."""
        from ..errors import PluginError
        from ..registry import get_registry

        made = []
        for name, values in self.config.callback_plugins.items():
            spec = get_registry().callbacks[name]
            callback = spec.create(values or {})
            try:
                check_callbacks([callback])
            except TypeError:
                raise PluginError(f"{spec.label}: its factory returned {callback!r}, not a training callback (an "
                                  "object with on_start, on_step, ... methods: docs/training.md)") from None
            with contextlib.suppress(AttributeError):  # a label names the plugin in errors
                callback.label = spec.label
            made.append(callback)
        return made

    def _class_conditional(self, spec) -> bool:
        """Whether the run asks for class conditioning, read as its config will read it ("false" is
        false); a GAN whose config cannot be conditioned is refused by name."""
        from pydantic import TypeAdapter, ValidationError

        from ..gans.config import ClassConditionOption

        if "class_conditional" not in self.config.gan_config:
            return False
        if not issubclass(spec.config, ClassConditionOption):
            raise ConfigError(f"{spec.label} does not take class_conditional (the DCGAN family and StyleGAN2 do; "
                              "docs/conditional.md)")
        try:
            return TypeAdapter(bool).validate_python(self.config.gan_config["class_conditional"])
        except ValidationError:
            return False  # the GAN's own config validation names the bad value

    def _classes(self) -> dict[str, Any]:
        """class_names and class_shares of a class-conditional GAN, from the training split."""
        data = self.dataset
        if not data.group_names:
            raise ConfigError(f"class_conditional needs a data set whose slices carry a class: {self.config.dataset} "
                              "has none (use acdc, or acdc-phantom with --set dataset.pathology=true)")
        unknown = sorted({data.subject_ids[int(s)] for s in data.subject_index[data.group_index < 0].tolist()})
        if unknown:
            raise ConfigError(f"class_conditional: {len(unknown)} training subject(s) have no class (e.g. "
                              f"{', '.join(unknown[:5])}: no Group in Info.cfg); remove them or train unconditioned")
        counts = torch.bincount(data.group_index, minlength=len(data.group_names)).double()
        self.groups = data.group_index.to(self.device)
        return {"class_names": tuple(data.group_names), "class_shares": tuple((counts / counts.sum()).tolist())}

    def _batch(self) -> torch.Tensor:
        n = self.gan.config.batch_size  # the global batch: every rank draws it, then takes its slice
        index = torch.randint(len(self.data), (n,), generator=self.rng, device=self.device)
        batch = self.data[index]
        if self.augment is not None:
            batch = self.augment(batch, self.rng)
        if self.groups is not None:
            self._batch_classes = self.groups[index]
        if self.ranks is not None:
            from .ranks import slice_of

            batch = slice_of(batch, self.ranks.rank, self.ranks.world)
            if self.groups is not None:
                self._batch_classes = slice_of(self._batch_classes, self.ranks.rank, self.ranks.world)
        return batch

    def _last_classes(self) -> torch.Tensor | None:
        return self._batch_classes if self.groups is not None else None

    @property
    def main(self) -> bool:
        """This process writes the run folder (the only one, or rank 0)."""
        return self.ranks is None or self.ranks.main

    def _start_ranks(self) -> None:
        """Under torchrun: join the process group, check the settings agree, split the batch."""
        from .. import distributed
        from . import ranks

        if not distributed.launched():
            return
        self.ranks = distributed.start(self.config.device)
        self.device, self.cuda = self.ranks.device, self.ranks.device.type == "cuda"
        ranks.check_same_config(self.config.model_dump_json(exclude={"world_size", "per_rank_batch"}))

    def _distribute(self) -> None:
        from . import ranks

        world = self.ranks.world
        per_rank = ranks.split_batch(self.gan.config.batch_size, world)
        reason = self.gan.distributed_problem(world) if world > 1 else None
        if reason:
            raise ConfigError(f"{self.config.gan} cannot train on {world} ranks with these settings: {reason}")
        self.config = self.config.model_copy(update={"world_size": world, "per_rank_batch": per_rank})
        if world > 1:  # with one rank the mean over ranks is the gradient itself
            ranks.average_gradients(self.gan.optimizers, world)
            if self.config.sync_batchnorm:
                from .sync_norm import synchronise_batch_norms

                synchronise_batch_norms(self.gan)

    def _autocast(self):
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _diffaugment(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.diffaugment is None else self.diffaugment(x, self.rng)

    def _grid_options(self) -> dict[str, torch.Tensor]:
        """Training masks for the grids of a GAN that cannot sample without them; every class in
        turn for a class-conditional one."""
        if self.groups is not None:
            return {"classes": torch.arange(16) % len(self.dataset.group_names)}
        if not self.gan.needs_masks_to_sample:
            return {}
        return {"masks": self.data[:16, self.gan.config.image_channels:].argmax(dim=1).cpu()}

    def _state(self) -> TrainState:
        rank, world = (self.ranks.rank, self.ranks.world) if self.ranks is not None else (0, 1)
        gc = self.gan.config
        state = TrainState(config=self.config, out=self.out, gan=self.gan, dataset=self.dataset, device=self.device,
                           rank=rank, world=world, grid_options=self._grid_options(), model=self.current_model,
                           length=self.length,
                           images_per_step=gc.batch_size * (gc.n_critic if isinstance(gc, CriticSteps) else 1))
        if self.resume:
            state.start_step, state.earlier_seconds, state.resumed_from = restore(self.out, self.gan, self.rng)
            state.step = state.last_checkpoint = state.start_step
        return state

    def _step_context(self, state: TrainState) -> StepContext:
        diffaugment: Callable[[torch.Tensor], torch.Tensor] = self._diffaugment
        if state.world > 1:
            from .ranks import all_sum, global_apply

            diffaugment = global_apply(self._diffaugment, state.rank, state.world)
        ctx = StepContext(batch=self._batch, rng=self.rng, device=self.device, autocast=self._autocast,
                          diffaugment=diffaugment, rank=state.rank, world=state.world,
                          batch_classes=self._last_classes)
        if state.world > 1:
            ctx.all_sum = all_sum
        return ctx

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> TrainResult:
        self._start_ranks()
        self.setup()
        if self.ranks is not None:
            self._distribute()
        self.out.mkdir(parents=True, exist_ok=True)
        state = self._state()
        builtin = builtin_callbacks(self.config, self.rng, self.on_checkpoint)
        callbacks = Callbacks(builtin, [*self.plugin_callbacks, *self.user_callbacks])
        control = TrainControl()
        ctx = self._step_context(state)
        try:
            callbacks.fire("start", state, control)
            state.began = time.perf_counter()  # training time starts with the first step
            for step in range(state.start_step + 1, self.config.steps + 1):
                state.step = ctx.step = step
                state.logs = check_logs(calling(self.gan_label, "train_step", self.gan.train_step, ctx),
                                        self.gan_label)
                self.gan.update_ema()
                state.images += state.images_per_step
                control.schedule(step, self.config)
                callbacks.fire("step", state, control)
                if control.checkpoint or control.stop:
                    callbacks.fire("checkpoint", state, control)
                if control.stop:
                    break
            if control.stop_error is not None:
                raise control.stop_error
            state.finished = state.seconds
            callbacks.fire("end", state, control)
        except BaseException as exc:
            state.error = exc
            problems = callbacks.fire_all("failure", state, control)
            _note(state.error, problems)
            if state.error is exc:
                raise
            raise state.error from None
        finally:
            _note(state.error, callbacks.fire_all("close", state, control))
        if state.world > 1:
            from .. import distributed

            distributed.finish()
        from .callbacks.checkpointing import images_per_second

        metrics = next((c for c in builtin if isinstance(c, MetricsCsv)), None)
        return TrainResult(self.out, state.step, state.seconds, images_per_second(state),
                           metrics.last_row() if metrics else {}, state.resumed_from)

    def current_model(self):
        """The generator as it is now, as a :class:`~medgan_zoo.GanModel` (not saved)."""
        from ..model import GanModel
        from ..model_info import info_for

        training = {"steps": 0, "batch_size": self.gan.config.batch_size, "seed": self.config.seed}
        return GanModel(self.gan, info_for(self.config.gan, self.gan, self.dataset, training), self.device)


def _note(error: BaseException | None, problems: list[str]) -> None:
    """Callbacks that failed while the run was failing or closing: noted on the run's own error."""
    if not problems:
        return
    if error is not None and hasattr(error, "add_note"):
        for problem in problems:
            error.add_note(problem)
        return
    import warnings

    for problem in problems:
        warnings.warn(problem, RuntimeWarning, stacklevel=3)


def train(gan: str, dataset: str, *, out: str | Path, data_root: str | Path | None = None,
          resolution: int = 64, steps: int | None = None, resume: bool = False, gan_config: dict | None = None,
          dataset_config: dict | None = None, on_checkpoint: Callable[[int, Any], None] | None = None,
          callbacks: Sequence[object] = (), **settings: Any) -> TrainResult:
    """Train ``gan`` on ``dataset`` into the run folder ``out`` (what ``medgan-zoo train`` does).

    ``gan_config`` holds GAN fields (``medgan-zoo plugins show gan NAME``), ``dataset_config`` the
    dataset's; ``settings`` are :class:`TrainConfig` fields (seed, device, log_every,
    ``callback_plugins`` by name, ...). ``steps=None`` trains a resumed run to its own end, a new one
    for the GAN's own length (StyleGAN2's ``kimg``) or 2000 steps. ``callbacks`` are your own
    :class:`~medgan_zoo.Callback` objects (docs/training.md). The run folder ends up loadable with
    ``medgan_zoo.load(out)``.
    ``on_checkpoint(step, model)`` is called after every checkpoint but the last with the generator
    as a GanModel (a search scores it there; an exception it raises stops the run, the checkpoint kept).
    """
    config = make_train_config(dict(
        gan=gan, dataset=dataset, data_root=data_root, resolution=resolution, steps=steps,
        gan_config=gan_config or {}, dataset_config=dataset_config or {}, **settings))
    return Trainer(config, Path(out), resume, on_checkpoint, callbacks).run()
