"""A killed sweep worker loses nothing: on the journal file (one machine) and on a real PostgreSQL
server (several machines), its running trial is taken over by the other worker and resumed from its
checkpoint in the same folder, and no finished trial runs twice.

The PostgreSQL server is Debian's `postgresql`, started here: initdb into a temporary folder as the
`postgres` user (PostgreSQL refuses to run as root), a free port on 127.0.0.1, stopped at the end
(also when a test fails). Without the package the test is skipped, unless CI is set: there it fails.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4, "vgg_weight": 0}
DATA = {"train_subjects": 2, "test_subjects": 1}


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server; yields the URL of an empty database."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI runs this test")
    pytest.importorskip("psycopg")
    root = Path(tempfile.mkdtemp(prefix="medgan-zoo-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses root: run it as the postgres user
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    started = subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                              "-w", "-t", "60", "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F",
                              "start"], capture_output=True, text=True)
    try:
        if started.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            pytest.fail(f"PostgreSQL did not start: {started.stderr} {log[-2000:]}")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE sweeps")
        yield f"postgresql://postgres:secret@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _worker(out: Path, storage: str | None, log: Path) -> subprocess.Popen:
    sets = [f"--set={k}={v}" for k, v in TINY.items()] + [f"--set=dataset.{k}={v}" for k, v in DATA.items()]
    command = [sys.executable, "-m", "medgan_zoo", "sweep", "run", "dcgan", "--dataset", "acdc-phantom",
               "--trials", "2", "--study", "k", "--objective", "unet-fd", "--scale", "quick", "-n", "16",
               "--eval-set", "unet-fd.steps=20", "--resolution", "32", "--steps", "100", "--checkpoint-every", "10",
               "--pruner", "none", "--out", str(out), *sets, *(["--storage", storage] if storage else [])]
    env = {**os.environ, "MEDGAN_ZOO_SWEEP_HEARTBEAT": "1", "MEDGAN_ZOO_SWEEP_GRACE": "4"}
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)


def _victim(out: Path, workers: list[subprocess.Popen]) -> tuple[subprocess.Popen, int] | None:
    """A worker in the middle of a trial that already has a checkpoint (so the retry resumes it)."""
    for w in workers:
        status = out / "workers" / f"{socket.gethostname()}-{w.pid}.json"
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(status.read_text())
            trial = record.get("trial")
            if record.get("state") != "training" or trial is None:
                continue
            for folder in (out / "trials").glob(f"{trial:04d}-*"):
                checkpoint = folder / "checkpoints" / "last.safetensors"
                if checkpoint.exists() and not (folder / "model.safetensors").exists():
                    return w, trial
    return None


@pytest.mark.parametrize("backend", ["journal", "postgresql"])
def test_a_killed_worker_loses_nothing(backend, tmp_path, request):
    storage = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    out = tmp_path / "study"
    workers = [_worker(out, storage, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        deadline, found = time.monotonic() + 240, None
        while found is None and time.monotonic() < deadline:
            found = _victim(out, workers)
            time.sleep(0.05)
        assert found is not None, "no worker was caught in the middle of a trial"
        victim, killed_trial = found
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        survivor = next(w for w in workers if w is not victim)
        assert survivor.wait(timeout=300) == 0, (tmp_path / f"w{workers.index(survivor)}.log").read_text()[-3000:]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    if storage is None:
        from optuna.storages.journal import JournalFileBackend

        opened = optuna.storages.JournalStorage(JournalFileBackend(str(out / "journal.log")))
    else:
        opened = optuna.storages.RDBStorage(storage.replace("postgresql://", "postgresql+psycopg://"))
    trials = optuna.load_study(study_name="k", storage=opened).get_trials()
    by_state = {s: [t for t in trials if t.state.name == s] for s in ("COMPLETE", "FAIL", "RUNNING", "WAITING")}
    # two trials finished, the killed one failed and was run again under its own folder
    assert len(by_state["COMPLETE"]) == 2 and not by_state["RUNNING"] and not by_state["WAITING"]
    assert [t.number for t in by_state["FAIL"]] == [killed_trial]
    retry = next(t for t in by_state["COMPLETE"] if t.system_attrs.get("failed_trial") == killed_trial)
    killed = by_state["FAIL"][0]
    assert retry.user_attrs["folder"] == killed.user_attrs["folder"] and retry.params == killed.params
    folders = [t.user_attrs["folder"] for t in by_state["COMPLETE"]]
    assert len(set(folders)) == 2  # no finished trial ran twice
    assert "resuming" in (out / retry.user_attrs["folder"] / "train.log").read_text()
