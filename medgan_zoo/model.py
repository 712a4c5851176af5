"""A trained generator you can sample from, save and load: the object ``medgan_zoo.load`` returns.

A saved model is a folder: ``config.json`` (which GAN, from which plugin version, its full config,
the dataset and label map), ``model.safetensors`` (the generator, and its EMA copy where trained
with one) and a ``README.md`` model card. Loading is strict and never unpickles anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError

from .atomic import atomic_write
from .device import resolve_device
from .errors import ConfigError, MedganZooError
from .gans.base import training_only
from .handover import calling, check_generated, check_pairs, gan_label
from .model_info import CARD_FILE, CONFIG_FILE, FORMAT, WEIGHTS_FILE, ModelInfo
from .progress import Progress
from .sampling import Samples, batches, latents, new_seed, sample_seeds, write_manifest, write_samples
from .weights import ModelLoadError, load_networks


def refuses_options(exc: BaseException, options: dict[str, Any]) -> bool:
    """A TypeError or ValueError about the caller's own sampling options (it names one, or options):
    the caller's to report as a bad ``--set``; anything else raised in ``generate`` is the plugin's."""
    text = str(exc)
    return isinstance(exc, (TypeError, ValueError)) and bool(options) and (
        "option" in text or "keyword" in text or any(str(k) in text for k in options))


#: Sampling at least this many pairs shows progress.
LARGE_SAMPLE = 1000


class GanModel:
    """A generator with its metadata. ``sample`` returns image + mask pairs on the CPU."""

    def __init__(self, gan, info: ModelInfo, device: str | torch.device | None = None):
        self.gan = gan
        self.info = info
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.gan.to(self.device)
        self.allow_nan = False  # True: NaN weights load and NaN samples are written (to look at a broken model)

    def __repr__(self) -> str:
        return (f"GanModel({self.info.gan!r} on {self.info.dataset!r}, {self.info.resolution}x"
                f"{self.info.resolution}, {len(self.info.label_map)} classes)")

    @property
    def label_map(self) -> dict[int, str]:
        return self.info.label_map

    @torch.no_grad()
    def _generate(self, seed: int, start: int, count: int, device: torch.device, **options: Any):
        """Samples start..start+count-1, computed in fixed blocks of ``gan.sampling_block``.

        Every forward pass holds exactly one block (padded with the following samples' latents),
        so sample i always meets the same companions at the same position: the numbers do not
        depend on ``n`` or ``batch_size`` even where convolution kernels are batch-size sensitive.
        """
        block = self.gan.sampling_block
        generator = self.gan.sampling_generator()
        per_sample = {k: v for k, v in options.items() if k in self.gan.per_sample_options and v is not None}
        images, masks = [], []
        first, last = start // block, (start + count - 1) // block
        for b in range(first, last + 1):
            z = latents(seed, b * block, block, self.gan.latent_dim).to(device)
            block_options = dict(options)
            if self.gan.takes_sample_seeds:
                block_options["seeds"] = sample_seeds(seed, b * block, block)
            for key, values in per_sample.items():  # this block's slice, padded with its last value
                index = torch.arange(b * block, (b + 1) * block).clamp(max=len(values) - 1)
                block_options[key] = values[index].to(device)
            output = calling(gan_label(self.info), "generate", self.gan.generate, z, generator=generator,
                             passthrough=lambda exc: refuses_options(exc, options), **block_options)
            check_generated(output, gan_label(self.info), block, self.gan.output_channels, self.info.resolution,
                            self.allow_nan)
            lo, hi = max(start - b * block, 0), min(start + count - b * block, block)
            pair = calling(gan_label(self.info), "to_pairs", self.gan.to_pairs, output[lo:hi])
            check_pairs(*pair, gan_label(self.info), hi - lo, self.info.image_channels, self.info.resolution,
                        len(self.info.label_map), self.allow_nan)
            images.append(pair[0].cpu())
            masks.append(pair[1].cpu())
        return torch.cat(images), torch.cat(masks)

    def _prepare(self, n: int, seed: int | None, batch_size: int | None, device) -> tuple[int, int, torch.device]:
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"n must be a positive number of samples, got {n!r}")
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        device = resolve_device(device) if device is not None else self.device
        self.gan.to(device)
        self.gan.sampling_generator().eval()
        block = self.gan.sampling_block
        chunk = -(-(batch_size or 256) // block) * block  # whole blocks, so none is computed twice
        return (new_seed() if seed is None else seed), chunk, device

    @property
    def class_names(self) -> list[str]:
        """The classes a class-conditional model generates on demand (empty: unconditional)."""
        config = self.gan.config
        return list(config.class_names) if getattr(config, "class_conditional", False) else []

    def _with_classes(self, n: int, seed: int, options: dict[str, Any]) -> dict[str, Any]:
        """``classes`` as int64 [n]: from a class name, names or indices (one, or one per sample),
        or, when not given to a class-conditional model, drawn per sample in the training
        proportions from each sample's own seed."""
        names = self.class_names
        asked = options.get("classes")
        if not names:
            if asked is not None:
                raise ValueError(f"this {self.info.gan} model is unconditional: it takes no classes (train it with "
                                 "--set class_conditional=true on a data set with classes)")
            return options
        if asked is None:
            from .sampling import sample_classes

            return {**options, "classes": sample_classes(seed, 0, n, self.gan.config.class_weights())}
        if isinstance(asked, torch.Tensor):
            asked = asked.tolist()  # a 0-d tensor becomes a scalar
        values = list(asked) if np.ndim(asked) > 0 else [asked.item() if hasattr(asked, "item") else asked]
        lowered = [name.lower() for name in names]
        index = []
        for value in values:
            if isinstance(value, str):
                if value.lower() not in lowered:
                    raise ValueError(f"unknown class {value!r}; this model's classes are {', '.join(names)}")
                index.append(lowered.index(value.lower()))
            elif not isinstance(value, bool) and hasattr(value, "__index__") and 0 <= int(value) < len(names):
                index.append(int(value))  # ints, numpy integers
            else:
                raise ValueError(f"a class is a name ({', '.join(names)}) or an index 0..{len(names) - 1}, "
                                 f"got {value!r}")
        if len(index) == 1:
            index = index * n
        return {**options, "classes": torch.tensor(index, dtype=torch.int64)}

    def _samples(self, images: torch.Tensor, masks: torch.Tensor, seed: int, options: dict[str, Any],
                 start: int = 0) -> Samples:
        classes = options.get("classes")
        if not self.class_names or classes is None:
            return Samples(images, masks, seed, dict(self.label_map))
        return Samples(images, masks, seed, dict(self.label_map), classes[start:start + len(images)].cpu(),
                       self.class_names)

    def _check_per_sample(self, n: int, options: dict[str, Any]) -> None:
        for key in self.gan.per_sample_options:
            if key in options and options[key] is not None and len(options[key]) != n:
                raise ValueError(f"{key} holds {len(options[key])} values for n={n} samples; give one per sample")

    def sample(self, n: int, *, seed: int | None = None, batch_size: int | None = None,
               device: str | torch.device | None = None, **options: Any) -> Samples:
        """``n`` generated pairs in memory. Sample ``i`` depends only on (seed, i): not on ``n``,
        ``batch_size`` (how many are generated at a time) or earlier calls. A class-conditional
        model takes ``classes=`` (a class name, or names/indices one per sample); without it, each
        sample's class is drawn in the training data's proportions from its own seed."""
        from .distributed import map_jobs, share

        if share()[1] > 1 and seed is None:
            raise ValueError("sampling across torchrun's ranks needs a seed (each would draw its own otherwise)")
        seed, chunk, device = self._prepare(n, seed, batch_size, device)
        options = self._with_classes(n, seed, options)
        self._check_per_sample(n, options)
        world = share()[1]
        if world > 1:  # under torchrun's evaluate: the ranks share the batches (same seed on each)
            block = self.gan.sampling_block  # batches small enough that every rank gets work
            chunk = min(chunk, -(-n // (world * block)) * block)
            parts = map_jobs(lambda part: tuple(t.cpu() for t in self._generate(seed, *part, device, **options)),
                             list(batches(n, chunk)))
        else:
            parts = []
            with Progress(n, "sampling", enabled=n >= LARGE_SAMPLE) as bar:
                for start, count in batches(n, chunk):
                    parts.append(self._generate(seed, start, count, device, **options))
                    bar.update(start + count)
        return self._samples(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), seed, options)

    def sample_to(self, out: str | Path, n: int, *, format: str = "png", seed: int | None = None,
                  batch_size: int | None = None, device: str | torch.device | None = None,
                  shard: tuple[int, int] | None = None, **options: Any) -> Path:
        """Stream ``n`` samples to ``out`` ``batch_size`` at a time (memory stays one batch).

        ``shard=(rank, world)``: this process writes every ``world``-th batch from ``rank`` on (the
        files are those of one process: the same names and contents); rank 0 writes the manifest.
        Give every rank the same ``seed`` (a random one differs per process)."""
        from .sampling import check_format

        check_format(format)
        if shard is not None and seed is None:
            raise ValueError("sampling across processes needs a seed (each would draw its own otherwise)")
        seed, chunk, device = self._prepare(n, seed, batch_size, device)
        asked = options.get("classes")
        requested = (asked if isinstance(asked, str) else "per sample: classes_*.csv or the npz"
                     if asked is not None else "drawn in the training proportions")
        options = self._with_classes(n, seed, options)
        self._check_per_sample(n, options)
        out = Path(out)
        rank = shard[0] if shard else 0
        for start, samples in self._stream(n, seed, chunk, device, options, shard):
            write_samples(out, samples, format, start)
        if rank == 0:
            write_manifest(out, {"model": self.info.gan, "dataset": self.info.dataset, "n": n, "seed": seed,
                                 "format": format, "label_map": self.label_map,
                                 "resolution": self.info.resolution,
                                 "options": {k: v for k, v in options.items() if k != "classes"},
                                 **({"class_names": self.class_names, "classes": requested} if self.class_names
                                    else {})})
        return out

    def to_nnunet(self, out: str | Path, n: int, **kwargs: Any) -> Path:
        """``n`` pairs as the nnU-Net raw data set ``out/DatasetXXX_NAME`` (PNG, one slice a case);
        keywords: ``dataset_id``, ``name``, ``seed``, ``real`` / ``real_test`` (SliceDatasets added
        as real cases), ``overwrite`` and sampling options: :func:`~medgan_zoo.data.nnunet.write.export_nnunet`."""
        from .data.nnunet.write import export_nnunet

        return export_nnunet(self, out, n, **kwargs)

    def stream(self, n: int, *, seed: int | None = None, batch_size: int | None = None,
               device: str | torch.device | None = None, **options: Any) -> Iterator[tuple[int, Samples]]:
        """``n`` samples ``batch_size`` at a time, as (index of the first, :class:`Samples`): the
        same samples as ``sample(n, seed=...)`` while memory holds one batch (each batch's
        ``seed`` is the one used, drawn here when not given)."""
        seed, chunk, device = self._prepare(n, seed, batch_size, device)
        options = self._with_classes(n, seed, options)
        self._check_per_sample(n, options)
        yield from self._stream(n, seed, chunk, device, options, None)

    def _stream(self, n: int, seed: int, chunk: int, device: torch.device, options: dict[str, Any],
                shard: tuple[int, int] | None) -> Iterator[tuple[int, Samples]]:
        rank, world = shard or (0, 1)
        mine = [part for k, part in enumerate(batches(n, chunk)) if k % world == rank]
        total = sum(count for _, count in mine)
        with Progress(total, "sampling", enabled=n >= LARGE_SAMPLE and rank == 0) as bar:
            done = 0
            for start, count in mine:
                images, masks = self._generate(seed, start, count, device, **options)
                yield start, self._samples(images, masks, seed, options, start)
                done += count
                bar.update(done)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {}
        for name, module in self.gan.networks():
            if training_only(name):
                continue
            for key, value in module.state_dict().items():
                tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
        return tensors

    def save_pretrained(self, directory: str | Path, sample_grid: bool = True,
                        grid_options: dict[str, Any] | None = None) -> Path:
        """Write a Hub-ready folder: config.json, model.safetensors, README.md (+ samples.png).

        ``grid_options`` are sampling options for the grid (``masks`` for a GAN that needs them);
        without them such a GAN's folder gets no grid."""
        from safetensors.torch import save_file

        from .modelcard import write_model_card

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / WEIGHTS_FILE,
                      lambda p: save_file(self.state_tensors(), str(p), metadata={"format": FORMAT}))
        atomic_write(directory / CONFIG_FILE,
                      lambda p: p.write_text(self.info.model_dump_json(indent=2)))
        grid = None
        options = dict(grid_options or {})
        if sample_grid and (options or not self.gan.needs_masks_to_sample):
            from .data.preview import save_grid

            grid = directory / "samples.png"
            count = len(options["masks"]) if "masks" in options else 16
            save_grid(self.sample(count, seed=0, **options).grid(16, 4), grid,
                      f"{self.info.gan} on {self.info.dataset}: samples (seed 0), each beside its mask", self.label_map)
        write_model_card(directory / CARD_FILE, self.info, grid.name if grid else None)
        return directory

    def push_to_hub(self, repo_id: str, private: bool = False, token: str | None = None,
                    directory: str | Path | None = None) -> str:
        """Export (to ``directory`` or a temporary folder) and upload with HfApi; returns the commit
        hash to pin in a catalogue card."""
        import tempfile

        from .gans.mask_sources import MaskBank
        from .hub import push_folder

        if any(isinstance(module, MaskBank) and len(module.bank) for module in self.gan.modules()):
            raise ConfigError(f"this {self.info.gan} model holds its training masks (mask_source='bank'), which are "
                              "the data set's licensed ground truth: it stays local; to publish, train with "
                              "mask_source='generator'")
        if directory is not None:
            return push_folder(self.save_pretrained(directory), repo_id, private, token)
        with tempfile.TemporaryDirectory() as tmp:
            return push_folder(self.save_pretrained(tmp), repo_id, private, token)

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device | None = None,
                    allow_nan: bool = False) -> GanModel:
        """Load a saved model folder strictly: every tensor must match the GAN's generator, in dtype
        and with finite values (``allow_nan``: NaN weights load, and NaN samples are written)."""
        from .factory import create_gan
        from .registry import get_registry

        folder = Path(folder).expanduser()
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        for path in (config_path, weights_path):
            if not path.is_file():
                checkpoint = folder / "checkpoints" / "last.safetensors"
                if checkpoint.is_file():
                    raise ModelLoadError(
                        f"{folder} holds a training run that has not finished (no {path.name} yet, a checkpoint in "
                        f"{checkpoint.parent}): continue it with the same `medgan-zoo train` command plus --resume; "
                        "the model is written when it ends")
                raise ModelLoadError(f"{folder} is not a model folder: {path.name} is missing")
        try:
            info = ModelInfo.model_validate_json(config_path.read_text())
        except (ValidationError, ValueError) as exc:
            raise ModelLoadError(f"{config_path} is not a medgan-zoo model config: {exc}") from None
        if info.gan not in get_registry().gans:
            raise ModelLoadError(
                f"{config_path} needs the GAN {info.gan!r} from {info.plugin_distribution} "
                f"{info.plugin_version}, which is not installed: pip install {info.plugin_distribution}"
            )
        try:
            gan = create_gan(info.gan, with_discriminator=False, **info.gan_config)
        except MedganZooError as exc:
            raise ModelLoadError(f"{config_path}: {exc}") from None
        try:
            from safetensors.torch import load_file

            tensors = load_file(str(weights_path))
        except Exception as exc:
            raise ModelLoadError(f"{weights_path} is truncated or corrupt ({type(exc).__name__}: {exc}): re-export the "
                                 "model with `medgan-zoo export` / save_pretrained, or download it again") from None
        try:
            load_networks(gan, tensors, weights_path, sampling_only=True, allow_nan=allow_nan)
        except ModelLoadError as exc:
            origin = get_registry().gans[info.gan].origin
            installed = origin.version if origin else None
            if installed and installed != info.plugin_version:
                raise ModelLoadError(f"{exc} (the file was written by {info.plugin_distribution} "
                                     f"{info.plugin_version}; {installed} is installed and its layout differs: "
                                     f"pip install '{info.plugin_distribution}=={info.plugin_version}')") from None
            raise
        model = cls(gan, info, device)
        model.allow_nan = allow_nan
        return model


def load(source: str | Path, revision: str | None = None, device: str | torch.device | None = None,
         allow_nan: bool = False) -> GanModel:
    """A model from a folder, the Hugging Face Hub, or the catalogue, on ``device`` (default: CUDA
    when available, as for training and evaluation).

    ``local-dir:PATH`` or an existing path: a folder written by ``train`` or ``save_pretrained``.
    ``hf://org/repo[@revision]`` or ``hf-hub:org/repo``: a Hub repository (downloaded through the
    huggingface_hub cache; ``HF_HUB_OFFLINE=1`` uses the cache only). Anything else is a catalogue
    name (``medgan-zoo models``), fetched at its pinned revision and checked against its sha256.
    """
    from .hub import download, parse_source, verify

    parsed = parse_source(str(source), revision)
    if parsed.kind == "local":
        path = Path(parsed.value).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"{str(source)!r} is not a model folder (expected a directory holding "
                                 f"{CONFIG_FILE} and {WEIGHTS_FILE}, as written by `medgan-zoo train` or "
                                 "`save_pretrained`)")
        return GanModel.from_folder(path, resolve_device(device), allow_nan)
    device = resolve_device(device)
    if parsed.kind == "hub":
        return GanModel.from_folder(download(parsed.value, parsed.revision), device, allow_nan)
    from .catalogue import get_card

    card = get_card(parsed.value)
    if card.status != "published":
        from .registry import get_registry

        missing = "" if card.gan in get_registry().gans else (
            f" It needs the {card.plugin} plugin, which is not installed: pip install {card.plugin}.")
        raise ModelLoadError(f"{card.name} has no published checkpoint yet.{missing} Train it yourself with:\n  "
                             f"{card.train_command}")
    if parsed.revision and parsed.revision != card.hub.revision:
        raise ModelLoadError(f"{card.name} is pinned to revision {card.hub.revision}; revision={parsed.revision!r} "
                             f"would bypass its checksums (load hf://{card.hub.repo_id}@{parsed.revision} instead)")
    folder = download(card.hub.repo_id, card.hub.revision)
    verify(folder, card.hub.sha256)  # before any tensor is read
    return GanModel.from_folder(folder, device, allow_nan)
