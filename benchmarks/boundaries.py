"""What the boundary checks cost, each beside the same work without it, in one run.

- Sampling: `GanModel.sample(n)` of a DCGAN at 64x64 with the hand-over check of every generated
  block (shape, dtype, finite values, peak) against the same call with the check replaced by a no-op.
- The sweep's journal: --appends appends of one Optuna record through our journal backend (the
  size noted and the file truncated back if the write fails) against Optuna's own
  JournalFileBackend, each under the same open-file lock, fsync included.
- The Turing server: the token and body-size guard, an answer's round trip through FastAPI's
  TestClient with the guard against the same app without it.

Each pair alternates `--repeats` times; the medians and their ratio are reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from results_io import machine, write_results


def _median_pair(first, second, repeats: int) -> tuple[float, float]:
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def sampling(n: int, repeats: int) -> tuple[float, float]:
    import torch

    import medgan_zoo as zoo
    from medgan_zoo import model as model_module
    from medgan_zoo.model import GanModel
    from medgan_zoo.model_info import ModelInfo

    torch.set_num_threads(2)
    gan = zoo.create_gan("dcgan", resolution=64, num_classes=4, with_discriminator=False)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version="0", gan_config={},
                     dataset="acdc-phantom", label_map={i: str(i) for i in range(4)}, resolution=64, image_channels=1)
    model = GanModel(gan, info)
    checked = model_module.check_generated

    def run(check) -> float:
        model_module.check_generated = check
        began = time.perf_counter()
        model.sample(n, seed=0)
        return time.perf_counter() - began

    model.sample(64, seed=0)  # warm-up
    try:
        return _median_pair(lambda: run(checked), lambda: run(lambda *a, **k: None), repeats)
    finally:
        model_module.check_generated = checked


def journal(appends: int, repeats: int) -> tuple[float, float]:
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    from medgan_zoo.search.journal import backend

    record = [{"op_code": 7, "worker_id": "w", "trial_id": 3, "step": 10, "intermediate_value": 0.5}]

    def run(make) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            store = make(Path(tmp) / "journal.log")
            began = time.perf_counter()
            for _ in range(appends):
                store.append_logs(record)
            return time.perf_counter() - began

    def optuna_own(path: Path):
        return JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))

    return _median_pair(lambda: run(backend), lambda: run(optuna_own), repeats)


def turing(answers: int, repeats: int) -> tuple[float, float]:
    from fastapi.testclient import TestClient

    from medgan_zoo.turing import app as app_module
    from medgan_zoo.turing.app import make_app
    from medgan_zoo.turing.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = [(f"img{i}", "real" if i % 2 else "generated", "scored", "bench") for i in range(answers)]
        Store(folder).create({"practice": 0}, images, [("tok" * 8, "rater-1", [i for i, *_ in images])])
        (folder / "images").mkdir()
        for image_id, *_ in images:
            (folder / "images" / f"{image_id}.png").write_bytes(b"\x89PNG" + b"\0" * 100)
        guard = app_module.Guard

        def run(with_guard: bool) -> float:
            with Store(folder).connect() as c:
                c.execute("DELETE FROM answers")
                c.execute("DELETE FROM served")
            app_module.Guard = guard if with_guard else _passthrough
            client = TestClient(make_app(folder))
            began = time.perf_counter()
            for _ in range(answers):
                item = client.get(f"/api/{'tok' * 8}/next").json()
                client.get(item["url"])
                client.post(f"/api/{'tok' * 8}/answer", json={"image": item["image"], "answer": "real",
                                                             "milliseconds": 5})
            return time.perf_counter() - began

        try:
            return _median_pair(lambda: run(True), lambda: run(False), repeats)
        finally:
            app_module.Guard = guard


class _passthrough:
    def __init__(self, app, **options) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows = []
    for what, (ours, peer), unit, count in (
            ("sample(n), DCGAN 64x64: checked vs unchecked", sampling(args.samples, args.repeats), "samples",
             args.samples),
            ("journal appends: ours vs Optuna's JournalFileBackend", journal(args.appends, args.repeats), "appends",
             args.appends),
            ("Turing answers (next, image, answer): guarded vs not", turing(args.answers, args.repeats), "answers",
             args.answers)):
        rows.append({"case": what, unit: count, "ours_s": round(ours, 3), "without_s": round(peer, 3),
                     "ratio": round(ours / peer, 3)})
    meta = {**machine(), "repeats": args.repeats, "time": time.strftime("%Y-%m-%d")}
    print(write_results(args.out, "boundaries", "What the boundary checks cost", meta, rows))


if __name__ == "__main__":
    main()
