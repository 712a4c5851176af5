"""The Turing-test server under 4 raters answering at once: latency of serving the next image and of
recording an answer (median, p99), answers per second, and the check that none was lost or
duplicated. Goal: 1,000 concurrent answers without loss or duplicate, p99 under 50 ms on 2 cores.

The server runs in its own process (uvicorn, as `turing-test serve` runs it); 4 client threads,
one per rater, each fetch their next item and image and post an answer, as the page does.

    python benchmarks/turing_test.py --per-rater 250
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from results_io import machine, write_results


def _serve(folder: str, port: int) -> None:
    from medgan_zoo.turing.app import serve

    serve(folder, "127.0.0.1", port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-rater", type=int, default=250)
    parser.add_argument("--raters", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    import httpx

    import medgan_zoo as zoo
    from medgan_zoo.turing.create import create_study
    from medgan_zoo.turing.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "dcgan"
        zoo.train("dcgan", "acdc-phantom", out=model, resolution=32, steps=2, progress=False,
                  gan_config={"g_filters": 8, "d_filters": 8})
        created = create_study(model, "acdc-phantom", out=Path(tmp) / "study", n=args.per_rater,
                               raters=args.raters, practice=0)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(created.folder), port))
        server.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/r/none", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        latencies: dict[str, list[float]] = {"next item": [], "image": [], "answer": []}
        lock, errors = threading.Lock(), []

        def rater(path: str) -> None:
            token = path.rsplit("/", 1)[1]
            with httpx.Client(base_url=base, timeout=30) as client:
                for k in range(args.per_rater):
                    t0 = time.perf_counter()
                    item = client.get(f"/api/{token}/next").json()
                    t1 = time.perf_counter()
                    client.get(item["url"]).raise_for_status()
                    t2 = time.perf_counter()
                    reply = client.post(f"/api/{token}/answer", json={"image": item["image"], "answer": "real",
                                                                       "confidence": 1 + k % 5, "milliseconds": 500})
                    t3 = time.perf_counter()
                    if reply.status_code != 200:
                        errors.append(reply.text)
                    with lock:
                        latencies["next item"].append(t1 - t0)
                        latencies["image"].append(t2 - t1)
                        latencies["answer"].append(t3 - t2)

        began = time.perf_counter()
        threads = [threading.Thread(target=rater, args=(p,)) for p in created.links.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        server.terminate()
        server.join()
        rows = Store(created.folder).table()
        expected = args.per_rater * args.raters
        positions_ok = all(sorted(r["position"] for r in rows if r["rater"] == name) == list(range(args.per_rater))
                           for name in {r["rater"] for r in rows})
        pairs = {(r["rater"], r["image"]) for r in rows}
    table = []
    for what, values in latencies.items():
        values = sorted(values)
        table.append({"request": what, "count": len(values), "median_ms": 1000 * statistics.median(values),
                      "p99_ms": 1000 * values[int(0.99 * (len(values) - 1))], "max_ms": 1000 * values[-1]})
    meta = {**machine(), "raters": args.raters, "answers_expected": expected, "answers_stored": len(rows),
            "duplicates": len(rows) - len(pairs), "positions_contiguous": positions_ok, "refused": len(errors),
            "answers_per_second": round(expected / wall, 1), "wall_s": round(wall, 1)}
    print(write_results(args.out, "turing_test", "Turing test server: 4 raters at once", meta, table))
    print(meta)
    if len(rows) != expected or errors or not positions_ok:
        sys.exit("answers were lost, duplicated or refused")


if __name__ == "__main__":
    main()
