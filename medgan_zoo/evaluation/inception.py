"""Inception-v3 pool3 features through torch-fidelity's extractor and input pipeline.

We do not re-implement Inception: torch-fidelity's ``FeatureExtractorInceptionV3`` (TF1-compatible
resize to 299 and layers) is fed uint8 RGB batches on the chosen device, so values equal
torch-fidelity's for the same weights and inputs by construction. Ours: finding the weights,
quantising [-1, 1] images to uint8, grayscale to RGB, batching, and caching real-data features.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from ..errors import MedganZooError
from ..hub import sha256_of

WEIGHTS_ENV = "MEDGAN_ZOO_INCEPTION_WEIGHTS"
OFFLINE_ENV = "MEDGAN_ZOO_OFFLINE"
FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{FIDELITY_FILE}"
HASH_PREFIX = "6726825d"  # the sha256 prefix both projects put in the file name
#: The full sha256 of the 2015-12-05 weights. torch-fidelity's file (re-hosted at WEIGHTS_URL) and
#: pytorch-fid's (github.com/mseitzer/pytorch-fid, release fid_weights) are the same 95,628,359 bytes:
#: projects that pin either URL publish this hash for it, and its first 8 hex digits are the ones both
#: file names carry.
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"


class WeightsNotFound(MedganZooError):
    """The Inception weights are not on this machine and cannot be downloaded."""


def _hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _download() -> Path:
    """Through the toolkit's one downloader (sha256 checked before the file is placed)."""
    from ..third_party import WeightsDownloadError, fetch

    try:
        return fetch("inception", progress=True)
    except WeightsDownloadError as exc:
        raise WeightsNotFound(_missing_message(str(exc))) from None


def _missing_message(why: str) -> str:
    return (f"FID/KID need the 2015-12-05 Inception weights and {why}. `medgan-zoo weights fetch inception` "
            "downloads and checks them; or pass weights=PATH "
            f"(CLI: --set fid.weights=PATH), set {WEIGHTS_ENV}=PATH, or put {FIDELITY_FILE} (or pytorch-fid's "
            f"{PYTORCH_FID_FILE}) in {_hub_checkpoints()}; they download from {WEIGHTS_URL}")


@lru_cache(maxsize=8)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def _sha256(path: Path) -> str:
    stat = path.stat()  # keyed by size and mtime: a replaced file is hashed again
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


def weights_missing() -> str | None:
    """Why FID/KID cannot run by default here (no weights on this machine), or None."""
    try:
        find_inception_weights(download=False)
    except WeightsNotFound:
        return (f"no Inception weights on this machine (`medgan-zoo weights fetch inception` fetches and checks "
                f"them; or --set fid.weights=PATH, ${WEIGHTS_ENV}; docs/evaluation.md)")
    return None


def find_inception_weights(path: str | Path | None = None, download: bool | None = None) -> Path:
    """The weights file: ``path``, ``$MEDGAN_ZOO_INCEPTION_WEIGHTS``, the torch hub cache under
    either project's name, or a download (skipped when ``$MEDGAN_ZOO_OFFLINE`` is set).

    A file found by name or downloaded must have the published full sha256 (else it is refused); a
    file given explicitly may differ (a lab's own weights), with a warning that its FID is not
    comparable with published values."""
    for candidate, origin in ((path, "weights"), (os.environ.get(WEIGHTS_ENV), WEIGHTS_ENV)):
        if candidate:
            given = Path(os.path.expandvars(str(candidate))).expanduser()
            if not given.is_file():
                raise WeightsNotFound(f"{origin} points at {given}, which is not a file")
            sha = _sha256(given)
            if sha != WEIGHTS_SHA256:
                warnings.warn(f"{given} is not the 2015-12-05 Inception (sha256 {sha[:16]}..., expected "
                              f"{WEIGHTS_SHA256[:16]}...): its FID/KID are not comparable with published values",
                              stacklevel=3)
            return given
    for name in (FIDELITY_FILE, PYTORCH_FID_FILE):
        cached = _hub_checkpoints() / name
        if cached.is_file():
            sha = _sha256(cached)
            if sha != WEIGHTS_SHA256:
                raise WeightsNotFound(f"{cached} has sha256 {sha}, not the published {WEIGHTS_SHA256}: it is "
                                      "corrupt or not the 2015-12-05 Inception; delete it (or pass weights=PATH "
                                      "to use it knowingly)")
            return cached
    why = "this step does not download"
    if download is None:
        download = not os.environ.get(OFFLINE_ENV)
        why = f"{OFFLINE_ENV} is set: no download"
    if not download:
        raise WeightsNotFound(_missing_message(f"none were found ({why})"))
    return _download()


def to_uint8_rgb(images: Tensor) -> Tensor:
    """[-1, 1] float (or uint8) images [N,C,H,W] -> uint8 RGB; grayscale repeated, other channel counts
    by their first channel (:func:`~medgan_zoo.channels.viewable`)."""
    from ..channels import viewable

    images = viewable(images)
    if images.dtype != torch.uint8:
        if not torch.isfinite(images).all():
            raise ValueError("images contain NaN or inf")
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[1] != 3:
        raise ValueError(f"Inception scores 1- or 3-channel images, got {images.shape[1]} channels")
    return images.contiguous()


@contextlib.contextmanager
def _no_weight_loading() -> Iterator[None]:
    """While constructing torch-fidelity's extractor, skip its own loading (it unpickles a given
    file with ``weights_only=False``, or downloads): the caller loads tensors itself. Not
    thread-safe: it swaps two attributes of torch-fidelity's module for the duration."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    cls = fe.FeatureExtractorInceptionV3
    original_load, original_url = cls.load_state_dict, fe.load_state_dict_from_url
    cls.load_state_dict = lambda self, state, *args, **kwargs: None  # type: ignore[method-assign,assignment]
    fe.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        yield
    finally:
        cls.load_state_dict, fe.load_state_dict_from_url = original_load, original_url  # type: ignore[method-assign]


def _bare_extractor():
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise MedganZooError("FID/KID use torch-fidelity's Inception: pip install torch-fidelity") from None
    with _no_weight_loading():
        return FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])


def load_tensors(path: str | Path, what: str) -> dict[str, Tensor]:
    """A state dict read as tensors only (``torch.load(weights_only=True)``): a file that would run
    code when unpickled is refused, and so is a truncated or corrupt one, naming the file."""
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise MedganZooError(f"{path} holds more than tensors, so it is not loaded (medgan-zoo never runs code "
                             f"from a weights file): {str(exc).splitlines()[0]}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise MedganZooError(f"{path}: truncated or corrupt {what} file ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); re-download it") from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise MedganZooError(f"{path} is not a state dict of tensors ({what})")
    return state


@lru_cache(maxsize=2)
def _extractor(weights: str, device: str):
    state = load_tensors(weights, "Inception weights")
    model = _bare_extractor()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise MedganZooError(f"{weights} is not an Inception-v3 state dict in torch-fidelity's layout: "
                             f"{str(exc).splitlines()[0]}") from None
    return model.eval().to(device)


class InceptionFeatures:
    """Pool3 (2048-d) features of image batches with given weights, on one device."""

    def __init__(self, weights: str | Path | None = None, device: str | torch.device | None = None,
                 batch_size: int = 64):
        self.weights = find_inception_weights(weights)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = batch_size
        self._sha: str | None = None

    @property
    def sha256(self) -> str:
        if self._sha is None:
            self._sha = sha256_of(self.weights)
        return self._sha

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        """Features [N, 2048] (float64, CPU); blocks of ``batch_size`` spread over torchrun's ranks
        under :func:`medgan_zoo.distributed.sharing`."""
        from ..distributed import map_blocks

        model = _extractor(str(self.weights), str(self.device))
        if not len(images):
            return torch.empty(0, 2048, dtype=torch.float64)
        return map_blocks(lambda x: model(to_uint8_rgb(x).to(self.device))[0].double(), images, self.batch_size)


def make_random_weights(path: str | Path, seed: int = 0, calibration_batches: int = 2) -> Path:
    """Save a randomly initialised Inception in torch-fidelity's layout, its batch-norm statistics
    calibrated on random images, for offline comparisons with torch-fidelity (uncalibrated random
    weights give nearly constant features, and every FID ~0 proves nothing)."""
    torch.manual_seed(seed)
    model = _bare_extractor()  # the random initialisation, kept
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the calibration batches
    model.train()
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _ in range(calibration_batches):
            model(torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8, generator=generator))
    for norm in norms:
        norm.momentum = 0.1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path
