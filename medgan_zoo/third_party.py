"""Third-party weights files the toolkit knows (VGG-19 for SPADE's perceptual loss and Table 1's
VGG knob, Inception-v3 for FID/KID and the report's Inception space), and their one downloader.

Every download goes through :func:`fetch`: torch.hub's downloader (progress on the terminal), into
a temporary file beside the destination, the full sha256 checked before the file is placed, then an
atomic rename into the torch hub cache where the toolkit looks. A file that fails the check is
deleted and never used. ``MEDGAN_ZOO_WEIGHTS_MIRROR`` replaces each file's host with a mirror (a
lab's server, the tests' local one); the checks stay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import MedganZooError

MIRROR_ENV = "MEDGAN_ZOO_WEIGHTS_MIRROR"


class WeightsDownloadError(MedganZooError):
    """A weights file could not be fetched, or what came is not the file."""


@dataclass(frozen=True)
class WeightsFile:
    name: str
    file: str
    url: str
    sha256: str
    size: int
    needed_by: str

    def path(self) -> Path:
        """Where the toolkit looks for it: the torch hub cache (``$TORCH_HOME/hub/checkpoints``)."""
        import torch

        return Path(torch.hub.get_dir()) / "checkpoints" / self.file


#: The files, with the full sha256 each is checked against (its first 8 hex digits are the prefix
#: the file name carries, torchvision's and torch-fidelity's convention).
KNOWN: dict[str, WeightsFile] = {
    "vgg19": WeightsFile(
        "vgg19", "vgg19-dcbb9e9d.pth", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
        "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44", 574_673_361,
        "SPADE's paper preset (VGG feature-matching loss), the DCGAN family's vgg_weight > 0 (Table 1's VGG knob)"),
    "inception": WeightsFile(
        "inception", "weights-inception-2015-12-05-6726825d.pth",
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
        "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2", 95_628_359,
        "the fid and kid metrics (downloaded on first use unless MEDGAN_ZOO_OFFLINE is set), the report's "
        "Inception feature space"),
}


def known(name: str) -> WeightsFile:
    if name not in KNOWN:
        import difflib

        from .errors import UnknownNameError

        raise UnknownNameError("weights file", name, difflib.get_close_matches(name, list(KNOWN), n=2),
                               "known: " + ", ".join(KNOWN))
    return KNOWN[name]


def source_url(spec: WeightsFile) -> str:
    mirror = os.environ.get(MIRROR_ENV, "").rstrip("/")
    return f"{mirror}/{spec.file}" if mirror else spec.url


def fetch(name: str, progress: bool = True, force: bool = False) -> Path:
    """The file ``name`` in the torch hub cache, downloaded and checked if it is not there yet (or
    is there with another sha256, or ``force``)."""
    from .hub import sha256_of

    spec = known(name)
    destination = spec.path()
    if destination.is_file() and not force and sha256_of(destination) == spec.sha256:
        return destination
    import torch

    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(f".{destination.name}.part-{os.getpid()}")
    url = source_url(spec)
    try:
        try:
            torch.hub.download_url_to_file(url, str(tmp), progress=progress)
        except Exception as exc:  # noqa: BLE001 - URLError, HTTPError, OSError, timeouts: one line
            mirror = "" if os.environ.get(MIRROR_ENV) else f", or set {MIRROR_ENV} to a mirror"
            raise WeightsDownloadError(f"{spec.name}: the download from {url} failed ({type(exc).__name__}: {exc}); "
                                       f"put {spec.file} in {destination.parent} by hand{mirror}") from None
        sha = sha256_of(tmp)
        if sha != spec.sha256:
            raise WeightsDownloadError(f"{spec.name}: {url} sent a file with sha256 {sha}, not {spec.sha256}: refused "
                                       "and deleted, nothing was placed")
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
        for stale in destination.parent.glob(f".{destination.name}.part-*"):  # a killed download's leftovers
            if not _running(stale.name.rsplit("-", 1)[-1]):
                stale.unlink(missing_ok=True)
    return destination


def _running(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def status() -> list[dict[str, Any]]:
    """Each known file: present (checked), wrong (another sha256) or missing; where; who needs it."""
    from .hub import sha256_of

    rows = []
    for spec in KNOWN.values():
        path = spec.path()
        if spec.name == "inception" and not path.is_file():  # pytorch-fid's copy of the same weights serves too
            other = path.with_name("pt_inception-2015-12-05-6726825d.pth")
            path = other if other.is_file() else path
        state = "missing"
        if path.is_file():
            state = "present" if sha256_of(path) == spec.sha256 else "wrong sha256 (fetch --force replaces it)"
        rows.append({"name": spec.name, "state": state, "path": str(path), "needed_by": spec.needed_by,
                     "url": source_url(spec), "size": spec.size})
    return rows


__all__ = ["KNOWN", "MIRROR_ENV", "WeightsDownloadError", "WeightsFile", "fetch", "known", "status"]
