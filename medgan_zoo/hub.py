"""Model sources beyond a local folder: Hugging Face Hub repositories and catalogue names.

Downloads go through huggingface_hub (its cache, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT``), fetch only
``config.json`` and ``model.safetensors``, and for catalogue names are checked against the card's
sha256 before any tensor is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ._version import __version__
from .errors import ConfigError, MedganZooError

MODEL_FILES = ("config.json", "model.safetensors")
PUBLISHED_FILES = ("config.json", "model.safetensors", "README.md", "samples.png")


class HubError(MedganZooError):
    """A repository, revision or file that cannot be fetched, or a file that fails its checksum."""


@dataclass(frozen=True)
class Source:
    kind: str  # "local", "hub" or "catalogue"
    value: str  # a path, a repo id, or a catalogue name
    revision: str | None = None


def parse_source(text: str, revision: str | None = None) -> Source:
    """``local-dir:PATH`` / an existing path / ``./x`` / ``/x``; ``hf://org/repo[@rev]`` or
    ``hf-hub:org/repo[@rev]``; anything else is a catalogue name."""
    for prefix in ("hf://", "hf-hub:"):
        if text.startswith(prefix):
            repo, at, pinned = text[len(prefix):].partition("@")
            if at and revision and revision != pinned:
                raise ConfigError(f"{text!r} pins revision {pinned!r} but revision={revision!r} was also given")
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ConfigError(f"{text!r}: expected {prefix}ORG/NAME[@REVISION]")
            return Source("hub", repo, pinned or revision)
    if text.startswith("local-dir:"):
        return Source("local", text.removeprefix("local-dir:"))
    if Path(text).expanduser().exists() or text.startswith(("./", "../", "/", "~")):
        return Source("local", text)
    return Source("catalogue", text, revision)


def download(repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None) -> Path:
    """The snapshot folder holding ``config.json`` and ``model.safetensors`` of ``repo_id@revision``."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision or 'main'}"
    unreachable = _unreachable_hub()  # seconds, not the client's retries, when there is no network
    paths = []
    for filename in MODEL_FILES:
        try:
            paths.append(Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir,
                                              library_name="medgan-zoo", library_version=__version__,
                                              local_files_only=unreachable is not None)))
        except LocalEntryNotFoundError:  # before EntryNotFoundError: newer versions derive it from that
            fetch = f"hf download {repo_id} {' '.join(MODEL_FILES)}" + (f" --revision {revision}" if revision else "")
            why = f"the Hub cannot be reached ({unreachable})" if unreachable else \
                "the Hub cannot be reached (HF_HUB_OFFLINE or no network)"
            raise HubError(f"{filename} of {where} is not in the Hugging Face cache and {why}: download it once "
                           f"online, e.g. `{fetch}`; HF_HUB_OFFLINE=1 uses the cache without trying the network"
                           ) from None
        except RevisionNotFoundError:
            raise HubError(f"revision {revision!r} does not exist in {repo_id}") from None
        except RepositoryNotFoundError:
            raise HubError(f"no repository {repo_id} on the Hub (or it is private: log in with "
                           "`hf auth login`)") from None
        except EntryNotFoundError:
            raise HubError(f"{where} has no {filename}: it is not a medgan-zoo model") from None
    return paths[0].parent


#: How long a connection to the Hub may take before it counts as unreachable.
PROBE_SECONDS = 3.0


def _unreachable_hub() -> str | None:
    """Why the Hub endpoint cannot be reached (a TCP connection within PROBE_SECONDS), or None
    when it can or when huggingface_hub is offline already (it then uses its cache only)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return None
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        return f"{constants.ENDPOINT}: {exc.strerror or type(exc).__name__}"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, expected: dict[str, str]) -> None:
    """Refuse files whose sha256 differs from the card's."""
    for name, digest in expected.items():
        path = folder / name
        if not path.exists():
            continue
        actual = sha256_of(path)
        if actual != digest:
            raise HubError(f"{path} has sha256 {actual}, but the catalogue pins {digest}: refusing to load it "
                           "(tampered or corrupted; delete it from the cache and download again)")


def push_folder(folder: str | Path, repo_id: str, private: bool = False, token: str | None = None,
                message: str = "Upload medgan-zoo model") -> str:
    """Upload a model folder with HfApi; returns the commit hash to pin in a catalogue card."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    for name in MODEL_FILES:
        if not (folder / name).is_file():
            raise HubError(f"{folder} is not a model folder: {name} is missing (export it first)")
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message=message,
                             allow_patterns=list(PUBLISHED_FILES))
    return info.oid
