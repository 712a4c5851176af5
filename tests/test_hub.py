"""Loading from the Hugging Face Hub and the catalogue, without leaving 127.0.0.1.

huggingface_hub reads HF_HOME / HF_HUB_OFFLINE / HF_ENDPOINT at import, so every load runs in a
subprocess with its own environment; the "Hub" is a real cache layout built here, or a small HTTP
server on 127.0.0.1 that answers the way the Hub does.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import yaml

import medgan_zoo as zoo
from medgan_zoo.model import GanModel, ModelInfo

REPO = "medgan-lab/dcgan-phantom"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LABELS = {0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    gan = zoo.create_gan("dcgan", resolution=32, g_filters=8, latent_dim=16, with_discriminator=False)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version=zoo.__version__,
                     gan_config=json.loads(gan.config.model_dump_json()), dataset="acdc-phantom",
                     label_map=LABELS, resolution=32, image_channels=1)
    return GanModel(gan, info).save_pretrained(tmp_path_factory.mktemp("export") / "model", sample_grid=False)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hub_cache(home: Path, folder: Path, repo: str = REPO, commit: str = COMMIT) -> Path:
    """The layout huggingface_hub writes: blobs named by hash, snapshots linking to them, refs/main."""
    root = home / "hub" / f"models--{repo.replace('/', '--')}"
    (root / "blobs").mkdir(parents=True)
    (root / "snapshots" / commit).mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    for name in ("config.json", "model.safetensors"):
        blob = root / "blobs" / sha(folder / name)
        blob.write_bytes((folder / name).read_bytes())
        os.symlink(os.path.relpath(blob, root / "snapshots" / commit), root / "snapshots" / commit / name)
    return root


def write_card(cards: Path, folder: Path, name: str = "dcgan-phantom", status: str = "published") -> None:
    cards.mkdir(exist_ok=True)
    card = {
        "name": name, "gan": "dcgan", "plugin": "medgan-zoo", "dataset": "acdc-phantom", "resolution": 32,
        "channels": 1, "label_map": LABELS, "status": status,
        "hub": {"repo_id": REPO, "revision": COMMIT,
                "sha256": {n: sha(folder / n) for n in ("config.json", "model.safetensors")}},
        "training": {"command": "medgan-zoo train dcgan --dataset acdc-phantom --out runs/x"},
        "license": "apache-2.0", "data_terms": "generated phantom", "citation": "test",
    }
    (cards / f"{name}.yaml").write_text(yaml.safe_dump(card))


def load_in_subprocess(source: str, env: dict[str, str]) -> dict:
    code = (
        "import json, sys, medgan_zoo as zoo\n"
        "try:\n"
        f"    s = zoo.load({source!r}).sample(4, seed=3)\n"
        "    out = {'images': s.images.flatten().tolist()[:64], 'masks': s.masks.flatten().tolist()[:64]}\n"
        "    print(json.dumps(out))\n"
        "except zoo.MedganZooError as exc:\n"
        "    print(json.dumps({'error': str(exc)}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def expected(folder: Path) -> dict:
    s = zoo.load(folder).sample(4, seed=3)
    return {"images": s.images.flatten().tolist()[:64], "masks": s.masks.flatten().tolist()[:64]}


def test_offline_cache_through_hf_url_and_catalogue(exported, tmp_path):
    home = tmp_path / "hf"
    hub_cache(home, exported)
    write_card(tmp_path / "cards", exported)
    env = {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "MEDGAN_ZOO_CARDS": str(tmp_path / "cards")}
    want = expected(exported)
    assert load_in_subprocess(f"hf://{REPO}@{COMMIT}", env) == want
    assert load_in_subprocess(f"hf-hub:{REPO}", env) == want  # refs/main -> the commit
    assert load_in_subprocess("dcgan-phantom", env) == want


def test_tampered_file_is_refused_and_named(exported, tmp_path):
    home = tmp_path / "hf"
    root = hub_cache(home, exported)
    write_card(tmp_path / "cards", exported)
    blob = root / "blobs" / sha(exported / "model.safetensors")
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last tensor
    blob.write_bytes(bytes(data))
    env = {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "MEDGAN_ZOO_CARDS": str(tmp_path / "cards")}
    error = load_in_subprocess("dcgan-phantom", env)["error"]
    assert "model.safetensors has sha256" in error and "refusing to load" in error


def test_offline_miss_says_what_to_download(tmp_path):
    env = {"HF_HOME": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1"}
    error = load_in_subprocess(f"hf://{REPO}@{COMMIT}", env)["error"]
    assert "not in the Hugging Face cache" in error and f"hf download {REPO}" in error


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_an_unreachable_hub_fails_fast_or_uses_the_cache(exported, tmp_path):
    import time

    endpoint = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}  # no HF_HUB_OFFLINE: the network is tried
    began = time.monotonic()
    error = load_in_subprocess(f"hf://{REPO}@{COMMIT}", {"HF_HOME": str(tmp_path / "empty"), **endpoint})["error"]
    assert "cannot be reached" in error and "HF_HUB_OFFLINE=1" in error and f"hf download {REPO}" in error
    home = tmp_path / "hf"
    hub_cache(home, exported)
    assert load_in_subprocess(f"hf://{REPO}@{COMMIT}", {"HF_HOME": str(home), **endpoint}) == expected(exported)
    assert time.monotonic() - began < 60  # two subprocesses, no network retries


class _FakeHub(http.server.BaseHTTPRequestHandler):
    files: dict[tuple[str, str, str], bytes] = {}

    def log_message(self, *args):
        pass

    def _answer(self, body: bool) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 5 or parts[2] != "resolve":
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound")
            self.end_headers()
            return
        repo, revision, name = f"{parts[0]}/{parts[1]}", parts[3], parts[4]
        if revision == "main":
            revision = COMMIT
        data = self.files.get((repo, revision, name))
        if data is None:
            known = any(r == revision for _, r, _ in self.files)
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound" if known else "RevisionNotFound")
            self.send_header("X-Error-Message", "not found")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("X-Repo-Commit", revision)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self):  # noqa: N802
        self._answer(body=False)

    def do_GET(self):  # noqa: N802
        self._answer(body=True)


@pytest.fixture
def fake_hub(exported):
    _FakeHub.files = {(REPO, COMMIT, n): (exported / n).read_bytes() for n in ("config.json", "model.safetensors")}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_from_a_local_hub_and_a_missing_revision(exported, fake_hub, tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": fake_hub, "HF_HUB_DISABLE_XET": "1"}
    assert load_in_subprocess(f"hf://{REPO}@{COMMIT}", env) == expected(exported)
    snapshot = tmp_path / "hf" / "hub" / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    assert sorted(p.name for p in snapshot.iterdir()) == ["config.json", "model.safetensors"]  # only what is needed
    missing = "f" * 40
    error = load_in_subprocess(f"hf://{REPO}@{missing}", env)["error"]
    assert f"revision '{missing}' does not exist in {REPO}" in error
