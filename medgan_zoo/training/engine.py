"""One training loop for every GAN plugin.

The whole training split lives on the device as one joint tensor; batches, noise and augmentation
draw from one seeded generator whose state is checkpointed, so ``resume`` continues the same
schedule (bit for bit on the CPU). Losses stay on the device and are read back only every
``log_every``/``check_every`` steps. Checkpoints are written only after a passing finite check, so
the last one is always good.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..device import default_device
from ..errors import MedganZooError
from ..gans.base import GAN, StepContext, joint_from_pairs
from ..gans.config import CriticSteps, DiffAugmentOption, PairAugmentOptions
from ..progress import Progress
from .checkpoint import CHECKPOINT, read_checkpoint, restore_checkpoint, save_checkpoint
from .config import RESUMABLE_CHANGES, TrainConfig, make_train_config

RUN_CONFIG = "train.json"
METRICS = "metrics.csv"
TRAIN_LOG = "train.log"  # the progress lines, whatever the terminal shows
SLOW_STEP_SECONDS = 3.0


class DivergenceError(MedganZooError):
    """Losses became NaN/inf or exploded; the last good checkpoint is kept."""


class TrainingInterrupted(MedganZooError):
    """Ctrl-C during training; a checkpoint was written and the run can be resumed."""


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
    return default_device() if name is None else torch.device(name)


class Trainer:
    def __init__(self, config: TrainConfig, out: Path, resume: bool = False,
                 on_checkpoint: Callable[[int, Any], None] | None = None):
        self.config, self.out, self.resume = config, Path(out), resume
        self.on_checkpoint = on_checkpoint
        self.ranks: Any = None  # distributed.Ranks under torchrun
        self.device = _device(config.device)
        self.cuda = self.device.type == "cuda"

    # -- set-up ---------------------------------------------------------------------------------

    def _check_resume(self) -> dict[str, Any] | None:
        run_file = self.out / RUN_CONFIG
        checkpoint = self.out / "checkpoints" / CHECKPOINT
        if not self.resume:
            if checkpoint.exists():
                raise MedganZooError(f"{self.out} already holds a run (checkpoints/{CHECKPOINT}); "
                                     "pass --resume to continue it or choose another --out")
            return None
        if not checkpoint.exists() or not run_file.exists():
            raise MedganZooError(f"nothing to resume in {self.out}: no checkpoints/{CHECKPOINT}")
        before = TrainConfig.model_validate_json(run_file.read_text())
        changed = [k for k in TrainConfig.model_fields
                   if k not in RESUMABLE_CHANGES and getattr(before, k) != getattr(self.config, k)]
        if changed:
            started = ", ".join(f"{k}={getattr(before, k)!r}" for k in changed)
            raise MedganZooError(f"cannot resume {self.out} with a different {', '.join(changed)} "
                                 f"(the run was started with {started})")
        return json.loads(run_file.read_text())

    def setup(self) -> None:
        from ..factory import create_gan, load_dataset
        from ..registry import get_registry

        c = self.config
        spec = get_registry().gans[c.gan]  # unknown names fail before any data is prepared
        if c.resolution not in spec.resolutions:
            from ..errors import ConfigError

            raise ConfigError(f"{spec.label} supports resolutions {list(spec.resolutions)}, not {c.resolution}")
        self._check_resume()
        self.dataset = load_dataset(c.dataset, c.data_root, "train", c.resolution, **c.dataset_config)
        torch.manual_seed(c.seed)
        gan_config = {"resolution": c.resolution, "image_channels": self.dataset.channels,
                      "num_classes": len(self.dataset.label_map), **c.gan_config}
        self.groups: torch.Tensor | None = None
        if self._class_conditional(spec):
            gan_config.update(self._classes())
        self.gan: GAN = create_gan(c.gan, **gan_config).to(self.device)
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

    def _class_conditional(self, spec) -> bool:
        """Whether the run asks for class conditioning, read as its config will read it ("false" is
        false); a GAN whose config cannot be conditioned is refused by name."""
        from pydantic import TypeAdapter, ValidationError

        from ..errors import ConfigError
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
        from ..errors import ConfigError

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
        from ..errors import ConfigError
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

    # -- outputs --------------------------------------------------------------------------------

    def _grid_options(self) -> dict[str, torch.Tensor]:
        """Training masks for the grids of a GAN that cannot sample without them; every class in
        turn for a class-conditional one."""
        if self.groups is not None:
            return {"classes": torch.arange(16) % len(self.dataset.group_names)}
        if not self.gan.needs_masks_to_sample:
            return {}
        return {"masks": self.data[:16, self.gan.config.image_channels:].argmax(dim=1).cpu()}

    def _write_grid(self, step: int) -> Path:
        from ..data.preview import save_grid
        from ..sampling import Samples, latents, sample_seeds

        G = self.gan.sampling_generator()
        was_training = G.training
        G.eval()
        options: dict[str, Any] = {k: v.to(self.device) for k, v in self._grid_options().items()}
        count = len(next(iter(options.values()))) if options else 16
        if self.gan.takes_sample_seeds:
            options["seeds"] = sample_seeds(self.config.seed, 0, count)
        with torch.no_grad():
            z = latents(self.config.seed, 0, count, self.gan.latent_dim).to(self.device)
            images, masks = self.gan.to_pairs(self.gan.generate(z, generator=G, **options))
        G.train(was_training)
        path = self.out / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_grid(Samples(images.cpu(), masks.cpu(), self.config.seed).grid(16, 4), path,
                  f"{self.config.gan}, step {step}: fixed-seed samples, each beside its mask"
                  + (f"; classes {', '.join(self.dataset.group_names)} in turn" if self.groups is not None else ""),
                  self.dataset.label_map)
        return path

    def _metrics_writer(self, start_step: int):
        path = self.out / METRICS
        rows: list[dict[str, str]] = []
        if path.exists() and start_step > 0:  # keep what the checkpoint had seen, drop the rest
            with path.open() as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= start_step]
        return path, rows

    def _warn_if_slow(self, progress: Progress, first_step: float, steps: int) -> None:
        """A first step of several seconds on the CPU: say what the whole run will take."""
        if first_step >= SLOW_STEP_SECONDS:
            progress.note(f"the first step took {first_step:.0f} s on the CPU: {steps} steps would take about "
                          f"{first_step * steps / 3600:.1f} h; use a GPU, or a CPU-sized configuration (`medgan-zoo "
                          "train --help` shows some)")

    def _save(self, step: int, seconds: float, resumed_from: list[int]) -> None:
        save_checkpoint(self.out / "checkpoints" / CHECKPOINT, self.gan, step, self.rng,
                        {"train": json.loads(self.config.model_dump_json()), "seconds": seconds,
                         "resumed_from": resumed_from})

    def _export(self, step: int, seconds: float, ips: float, resumed_from: list[int]) -> None:
        from ..model import GanModel, info_for

        training = {"steps": step, "batch_size": self.gan.config.batch_size, "seed": self.config.seed,
                    "seconds": round(seconds, 1), "images_per_second": round(ips, 1),
                    "device": str(self.device), "train_config": json.loads(self.config.model_dump_json())}
        if resumed_from:
            training["resumed_from"] = resumed_from
        info = info_for(self.config.gan, self.gan, self.dataset, training)
        GanModel(self.gan, info, self.device).save_pretrained(self.out, grid_options=self._grid_options())

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> TrainResult:
        self._start_ranks()
        self.setup()
        if self.ranks is not None:
            self._distribute()
        c = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        start, earlier, resumed_from = 0, 0.0, []
        if self.resume:
            checkpoint = self.out / "checkpoints" / CHECKPOINT
            tensors, meta = read_checkpoint(checkpoint)
            start = restore_checkpoint(tensors, meta, self.gan, self.rng, checkpoint)
            # time spent before the checkpoint (absent from 0.1.0 checkpoints: then this part only)
            earlier, resumed_from = float(meta.get("seconds", 0.0)), [*meta.get("resumed_from", []), start]
        if self.main:
            (self.out / RUN_CONFIG).write_text(c.model_dump_json(indent=2))
        metrics_path, rows = self._metrics_writer(start)
        board = self._tensorboard() if self.main else None
        rank, world = (self.ranks.rank, self.ranks.world) if self.ranks is not None else (0, 1)
        diffaugment: Callable[[torch.Tensor], torch.Tensor] = self._diffaugment
        if world > 1:
            from .ranks import global_apply

            diffaugment = global_apply(self._diffaugment, rank, world)
        ctx = StepContext(batch=self._batch, rng=self.rng, device=self.device, autocast=self._autocast,
                          diffaugment=diffaugment, rank=rank, world=world, batch_classes=self._last_classes)
        if world > 1:
            from .ranks import all_sum

            ctx.all_sum = all_sum
        gc = self.gan.config
        per_step = gc.batch_size * (gc.n_critic if isinstance(gc, CriticSteps) else 1)
        sums: dict[str, torch.Tensor] = {}
        window_steps, window_start = 0, time.perf_counter()
        began, last_good, images = time.perf_counter(), start, 0
        progress = Progress(c.steps, "training", done=start, enabled=c.progress and self.main,
                            log=self.out / TRAIN_LOG if self.main else None)
        if start:
            progress.note(f"resuming {self.out} at step {start} of {c.steps}")
        step = start
        stop = _DeferredInterrupt(terminate=world > 1)
        try:
            with stop:
                for step in range(start + 1, c.steps + 1):
                    ctx.step = step
                    logs = self.gan.train_step(ctx)
                    self.gan.update_ema()
                    progress.update(step)  # a Python counter: no host sync
                    if step == start + 1 and not self.cuda:
                        self._warn_if_slow(progress, time.perf_counter() - began, c.steps - start)
                    for key, value in logs.items():
                        sums[key] = sums[key] + value if key in sums else value.clone()
                    window_steps += 1
                    images += per_step
                    if world > 1:  # a Ctrl-C seen by one rank stops them all after the same step
                        from .ranks import any_rank

                        stop.requested = any_rank(stop.requested, self.device)
                    due_log = step % c.log_every == 0 or step == c.steps
                    due_checkpoint = step % c.checkpoint_every == 0 or step == c.steps or stop.requested
                    if step % c.check_every == 0 or due_log or due_checkpoint:
                        self._check(logs, step, last_good)
                    if due_log:
                        if world > 1:
                            from .ranks import mean_over_ranks

                            sums = mean_over_ranks(sums, world)
                        now = time.perf_counter()
                        row = {"step": step, **{k: float(v) / window_steps for k, v in sums.items()},
                               "images_per_second": per_step * window_steps / max(now - window_start, 1e-9),
                               "seconds": earlier + now - began}
                        rows.append({k: str(v) for k, v in row.items()})
                        if self.main:
                            _write_csv(metrics_path, rows)
                        if board is not None:
                            for key, scalar in row.items():
                                if key != "step":
                                    board.add_scalar(key, scalar, step)
                        progress.update(step, _info(row))
                        sums, window_steps, window_start = {}, 0, now
                    if step % c.sample_every == 0 and self.main:
                        self._write_grid(step)
                    if due_checkpoint:
                        if world > 1:
                            self._agree(step)
                        if self.main:
                            self._save(step, earlier + time.perf_counter() - began, resumed_from)
                        last_good = step
                        if self.on_checkpoint is not None and step < c.steps and not stop.requested:
                            self._call_hook(step)
                    if stop.requested:
                        raise TrainingInterrupted(
                            f"interrupted after step {step}; checkpoint at step {last_good} in "
                            f"{self.out / 'checkpoints'}; continue with the same command plus --resume")
        except (RuntimeError, _Terminated) as exc:
            if world > 1 and (isinstance(exc, _Terminated) or _peer_failure(exc)):
                where = (f"the checkpoint at step {last_good} in {self.out / 'checkpoints'} is intact" if last_good
                         else "no checkpoint was written yet")
                raise TrainingInterrupted(
                    f"rank {rank} stopped at step {step}: another rank failed or was stopped "
                    f"({str(exc).splitlines()[0][:160]}); {where}: run the same command with --resume, on any "
                    "number of ranks") from None
            raise
        except KeyboardInterrupt:  # raised inside a step (not the main thread, or a second Ctrl-C)
            if not last_good:
                raise TrainingInterrupted(f"interrupted during step {step}, before any checkpoint") from None
            raise TrainingInterrupted(
                f"interrupted during step {step}; checkpoint at step {last_good} in {self.out / 'checkpoints'}; "
                "continue with the same command plus --resume") from None
        finally:
            progress.close()
            if board is not None:
                board.close()
        seconds = earlier + time.perf_counter() - began
        # totals with totals: every step's images over the whole run's time (without the earlier
        # time of a 0.1.0 checkpoint, the rate of this part)
        ips = (per_step * c.steps if earlier else images) / max(seconds, 1e-9)
        if self.main:
            self._write_grid(c.steps)
            self._export(c.steps, seconds, ips, resumed_from)
        if world > 1:
            from .. import distributed

            distributed.finish()
        last = {k: float(v) for k, v in rows[-1].items()} if rows else {}
        return TrainResult(self.out, c.steps, seconds, ips, last, resumed_from)

    def current_model(self):
        """The generator as it is now, as a :class:`~medgan_zoo.GanModel` (not saved)."""
        from ..model import GanModel, info_for

        training = {"steps": 0, "batch_size": self.gan.config.batch_size, "seed": self.config.seed}
        return GanModel(self.gan, info_for(self.config.gan, self.gan, self.dataset, training), self.device)

    def _call_hook(self, step: int) -> None:
        """``on_checkpoint(step, model)``: a search scores the run so far (and may stop it)."""
        assert self.on_checkpoint is not None
        networks = [m for m in (self.gan.generator, self.gan.discriminator, self.gan.generator_ema) if m is not None]
        modes = [m.training for m in networks]
        cpu_rng = torch.random.get_rng_state()  # the scoring must not shift what training draws next
        try:
            self.on_checkpoint(step, self.current_model())
        finally:
            torch.random.set_rng_state(cpu_rng)
            for m, mode in zip(networks, modes, strict=True):
                m.train(mode)
            self.gan.to(self.device)

    def _agree(self, step: int) -> None:
        """At a checkpoint under torchrun: BatchNorm statistics become the ranks' mean (they already
        agree with synchronised batch norms), then every rank must hold rank 0's weights and buffers."""
        from .ranks import average_buffers, check_same

        networks = dict(self.gan.networks())
        average_buffers(list(networks.values()), self.ranks.world)
        check_same(networks, step)

    def _check(self, logs: dict[str, torch.Tensor], step: int, last_good: int) -> None:
        if not logs:
            return
        values = torch.stack([v.float().reshape(()) for v in logs.values()])
        healthy = bool(torch.isfinite(values).all()) and float(values.abs().max()) <= self.config.divergence_threshold
        if self.ranks is not None and self.ranks.world > 1:
            from .ranks import any_rank

            healthy = not any_rank(not healthy, self.device)  # one rank diverging stops every rank
        if healthy:
            return
        report = ", ".join(f"{k}={float(v):.4g}" for k, v in logs.items())
        where = (f"the last good checkpoint is step {last_good} in {self.out / 'checkpoints' / CHECKPOINT}"
                 if last_good else "no checkpoint was written yet")
        raise DivergenceError(f"training diverged at step {step} ({report}); {where}. Try a lower learning "
                              "rate, spectral normalisation on D, or another loss")

    def _tensorboard(self):
        if not self.config.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise MedganZooError("tensorboard=True needs the tensorboard package: pip install tensorboard") from None
        return SummaryWriter(str(self.out / "tensorboard"))


class _DeferredInterrupt:
    """Within the block, the first Ctrl-C only sets ``requested`` so the current step can finish
    (its state stays consistent for a checkpoint); a second one interrupts at once.

    ``terminate``: SIGTERM raises :class:`_Terminated` at once. torchrun's agent sends it to the other
    ranks as soon as one dies, often before their next collective would have told them."""

    def __init__(self, terminate: bool = False) -> None:
        self.requested = False
        self.terminate = terminate
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @staticmethod
    def _terminated(signum, frame) -> None:
        raise _Terminated("SIGTERM: torchrun stops every rank when one fails or is stopped")

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
            if self.terminate:
                self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._terminated)
        return self

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


class _Terminated(Exception):
    """SIGTERM under torchrun (see :class:`_DeferredInterrupt`)."""


def _peer_failure(exc: RuntimeError) -> bool:
    """A collective that failed because another rank is gone (gloo or NCCL)."""
    text = str(exc)
    return any(sign in text for sign in ("gloo", "NCCL", "Connection reset", "Connection closed", "Broken pipe"))


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def _info(row: dict[str, float]) -> str:
    shown = {k: v for k, v in row.items() if k not in ("step", "seconds")}
    return " ".join(f"{k.replace('images_per_second', 'img/s')}={v:.3g}" for k, v in shown.items() if math.isfinite(v))


def train(gan: str, dataset: str, *, out: str | Path, data_root: str | Path | None = None,
          resolution: int = 64, steps: int = 2000, resume: bool = False, gan_config: dict | None = None,
          dataset_config: dict | None = None, on_checkpoint: Callable[[int, Any], None] | None = None,
          **settings: Any) -> TrainResult:
    """Train ``gan`` on ``dataset`` into the run folder ``out`` (what ``medgan-zoo train`` does).

    ``gan_config`` holds GAN fields (``medgan-zoo plugins show gan NAME``), ``dataset_config`` the
    dataset's; ``settings`` are :class:`TrainConfig` fields (seed, device, log_every, ...). The run
    folder ends up loadable with ``medgan_zoo.load(out)``. ``on_checkpoint(step, model)`` is called
    after every checkpoint but the last with the generator as a GanModel (a search scores it there;
    an exception it raises stops the run, the checkpoint kept).
    """
    config = make_train_config(dict(
        gan=gan, dataset=dataset, data_root=data_root, resolution=resolution, steps=steps,
        gan_config=gan_config or {}, dataset_config=dataset_config or {}, **settings))
    return Trainer(config, Path(out), resume, on_checkpoint).run()
