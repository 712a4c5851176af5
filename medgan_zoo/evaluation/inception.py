"""Inception-v3 pool3 features through torch-fidelity's extractor and input pipeline.

We do not re-implement Inception: torch-fidelity's ``FeatureExtractorInceptionV3`` (TF1-compatible
resize to 299 and layers) is fed uint8 RGB batches on the chosen device, so values equal
torch-fidelity's for the same weights and inputs by construction. Ours: finding the weights,
quantising [-1, 1] images to uint8, grayscale to RGB, batching, and caching real-data features.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
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


class WeightsNotFound(MedganZooError):
    """The Inception weights are not on this machine and cannot be downloaded."""


def _hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _download(destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(WEIGHTS_URL, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
        except (urllib.error.URLError, OSError) as exc:
            Path(tmp.name).unlink(missing_ok=True)
            raise WeightsNotFound(_missing_message(f"the download from {WEIGHTS_URL} failed ({exc})")) from None
    sha = sha256_of(Path(tmp.name))
    if not sha.startswith(HASH_PREFIX):
        Path(tmp.name).unlink(missing_ok=True)
        raise WeightsNotFound(
            f"downloaded Inception weights have sha256 {sha}, expected {HASH_PREFIX}...; refusing them")
    os.replace(tmp.name, destination)
    return destination


def _missing_message(why: str) -> str:
    return (f"FID/KID need the 2015-12-05 Inception weights and {why}. Provide them: pass weights=PATH "
            f"(CLI: --set fid.weights=PATH), set {WEIGHTS_ENV}=PATH, or put {FIDELITY_FILE} (or pytorch-fid's "
            f"{PYTORCH_FID_FILE}) in {_hub_checkpoints()}; they download from {WEIGHTS_URL}")


def find_inception_weights(path: str | Path | None = None, download: bool | None = None) -> Path:
    """The weights file: ``path``, ``$MEDGAN_ZOO_INCEPTION_WEIGHTS``, the torch hub cache under
    either project's name, or a download verified against its sha256 prefix (skipped when
    ``$MEDGAN_ZOO_OFFLINE`` is set)."""
    for candidate, origin in ((path, "weights"), (os.environ.get(WEIGHTS_ENV), WEIGHTS_ENV)):
        if candidate:
            if not Path(candidate).is_file():
                raise WeightsNotFound(f"{origin} points at {candidate}, which is not a file")
            return Path(candidate)
    for name in (FIDELITY_FILE, PYTORCH_FID_FILE):
        cached = _hub_checkpoints() / name
        if cached.is_file():
            return cached
    if download is None:
        download = not os.environ.get(OFFLINE_ENV)
    if not download:
        raise WeightsNotFound(_missing_message(f"none were found ({OFFLINE_ENV} forbids a download)"))
    return _download(_hub_checkpoints() / FIDELITY_FILE)


def to_uint8_rgb(images: Tensor) -> Tensor:
    """[-1, 1] float (or uint8) images [N,C,H,W] -> uint8 RGB; grayscale repeated, only 1 or 3 channels."""
    if images.dtype != torch.uint8:
        if not torch.isfinite(images).all():
            raise ValueError("images contain NaN or inf")
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[1] != 3:
        raise ValueError(f"Inception scores 1- or 3-channel images, got {images.shape[1]} channels")
    return images.contiguous()


@lru_cache(maxsize=2)
def _extractor(weights: str, device: str):
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise MedganZooError("FID/KID use torch-fidelity's Inception: pip install torch-fidelity") from None
    model = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights)
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
        model = _extractor(str(self.weights), str(self.device))
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = to_uint8_rgb(images[start:start + self.batch_size]).to(self.device)
            out.append(model(batch)[0].double().cpu())
        return torch.cat(out) if out else torch.empty(0, 2048, dtype=torch.float64)


def make_random_weights(path: str | Path, seed: int = 0, calibration_batches: int = 2) -> Path:
    """Save a randomly initialised Inception in torch-fidelity's layout, its batch-norm statistics
    calibrated on random images, for offline comparisons with torch-fidelity (uncalibrated random
    weights give nearly constant features, and every FID ~0 proves nothing)."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    cls = fe.FeatureExtractorInceptionV3
    original_load, original_url = cls.load_state_dict, fe.load_state_dict_from_url
    cls.load_state_dict = lambda self, state, *args, **kwargs: None  # keep the random initialisation
    fe.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        torch.manual_seed(seed)
        model = cls("inception-v3-compat", ["2048"])
    finally:
        cls.load_state_dict, fe.load_state_dict_from_url = original_load, original_url
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
