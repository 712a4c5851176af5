"""The visual Turing test: statistics against hand-computed values and statsmodels, a simulated
study, the web service's security and bad input, and a rater in a real browser (Debian's chromium
driven by Playwright) doing the practice block, 10 images by keyboard, a reload, and finishing."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import medgan_zoo as zoo
from medgan_zoo.errors import ConfigError

pytest.importorskip("fastapi")
pytest.importorskip("statsmodels")

from medgan_zoo.turing.analysis import analyse  # noqa: E402
from medgan_zoo.turing.stats import proportion  # noqa: E402
from medgan_zoo.turing.store import Store  # noqa: E402

DATA = {"train_subjects": 2, "test_subjects": 1}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}


def _rows(rater: str, truths: str, answers: str, confidence: int = 3) -> list[dict]:
    names = {"R": "real", "G": "generated"}
    return [{"rater": rater, "image": f"i{k}", "truth": names[t], "answer": names[a], "confidence": confidence,
             "milliseconds": 1000 + k, "position": k} for k, (t, a) in enumerate(zip(truths, answers, strict=True))]


def test_statistics_equal_hand_computed_values():
    a = _rows("a", "RRRRGGGGGG", "RRRGGGGGRR")  # 3/4 real right, 4/6 generated right
    b = _rows("b", "RRRRGGGGGG", "RRGGGGGGGR")
    result = analyse(a + b)
    ra = result["raters"]["a"]
    assert ra["accuracy"]["value"] == 0.7 and ra["sensitivity"]["value"] == 4 / 6 and ra["specificity"]["value"] == 0.75
    # Wilson interval by its formula
    z, p, n = 1.959963984540054, 0.7, 10
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert ra["accuracy"]["low"] == pytest.approx(centre - half)
    assert ra["accuracy"]["high"] == pytest.approx(centre + half)
    assert ra["balanced_accuracy"]["value"] == pytest.approx((4 / 6 + 3 / 4) / 2)
    # Fisher's exact test by hand: 6 generated rows, 5 "generated" answers, x = 4 of them right; the
    # hypergeometric weights of x = 1..5 are C(6, x) C(4, 5 - x) = 6, 60, 120, 60, 6 (of 252)
    assert ra["p_value"] == pytest.approx((6 + 60 + 60 + 6) / 252) and ra["verdict"].startswith("no evidence")
    # Cohen's kappa of a and b by hand: po = agreement, pe = chance agreement from the marginals
    said_a, said_b = [r["answer"] == "generated" for r in a], [r["answer"] == "generated" for r in b]
    po = sum(x == y for x, y in zip(said_a, said_b, strict=True)) / 10
    pa, pb = sum(said_a) / 10, sum(said_b) / 10
    pe = pa * pb + (1 - pa) * (1 - pb)
    assert result["agreement"]["cohen_kappa"]["a / b"] == pytest.approx((po - pe) / (1 - pe))
    # Fleiss' kappa for two raters by its definition
    counts = [[2 - (x + y), x + y] for x, y in zip(said_a, said_b, strict=True)]
    p_j = [sum(c[j] for c in counts) / 20 for j in range(2)]
    p_i = [(sum(v * v for v in c) - 2) / 2 for c in counts]
    p_bar, pe_bar = sum(p_i) / 10, sum(q * q for q in p_j)
    assert result["agreement"]["fleiss_kappa"] == pytest.approx((p_bar - pe_bar) / (1 - pe_bar))
    assert result["confidence"][3]["n"] == 20 and result["confidence"][1]["n"] == 0


def test_a_simulated_study_recovers_the_raters_accuracy():
    rng = np.random.default_rng(7)
    truths = rng.permutation(["real"] * 50 + ["generated"] * 50)
    rows = []
    for r, accuracy in enumerate((0.55, 0.6, 0.6, 0.65)):  # the paper's cardiologists averaged 60%
        right = rng.random(100) < accuracy
        for k, (truth, ok) in enumerate(zip(truths, right, strict=True)):
            answer = truth if ok else ("generated" if truth == "real" else "real")
            rows.append({"rater": f"r{r}", "image": f"i{k}", "truth": truth, "answer": answer,
                         "confidence": int(rng.integers(1, 6)), "milliseconds": 900, "position": k})
    result = analyse(rows)
    pooled = result["pooled"]["accuracy"]
    assert pooled["n"] == 400 and pooled["low"] <= 0.6 <= pooled["high"]
    for r, accuracy in enumerate((0.55, 0.6, 0.6, 0.65)):
        s = result["raters"][f"r{r}"]["accuracy"]
        assert s["low"] <= accuracy <= s["high"]
    assert proportion(0, 0)["value"] is None


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("tt") / "dcgan"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=2, gan_config=TINY, dataset_config=DATA,
              progress=False)
    return out


@pytest.fixture
def study(model, tmp_path):
    from medgan_zoo.turing.create import create_study

    return create_study(model, "acdc-phantom", out=tmp_path / "study", n=10, raters=2, practice=4, seed=3,
                        dataset_config=DATA)


def _key(folder: Path) -> dict[str, str]:
    with Store(folder).connect() as c:
        return dict(c.execute("SELECT id, origin FROM images"))


def _token(created, name: str) -> str:
    return created.links[name].rsplit("/", 1)[1]


def test_create_blinds_the_images(study):
    from PIL import Image

    files = sorted((study.folder / "images").glob("*.png"))
    assert len(files) == 14  # 10 scored + 4 practice
    store = Store(study.folder)
    key = _key(study.folder)
    assert sorted(f.stem for f in files) == sorted(key) and sum(v == "real" for v in key.values()) == 7  # 5 + 2
    shapes = set()
    for f in files:
        data = f.read_bytes()
        assert not any(chunk in data for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME"))
        with Image.open(f) as im:
            shapes.add((im.size, im.mode, im.info.get("dpi")))
        assert f.stat().st_mtime == 946684800
    assert len(shapes) == 1  # the same size, bit depth and encoding for real and generated
    sequences = [seq for _, _, seq in store.raters()]
    assert sorted(sequences[0]) == sorted(sequences[1]) and sequences[0] != sequences[1]  # same images, own order


def test_create_refuses_mismatch_and_too_many(model, tmp_path):
    from medgan_zoo.turing.create import create_study

    with pytest.raises(ConfigError, match="does not match sliver07-phantom"):
        create_study(model, "sliver07-phantom", out=tmp_path / "a", n=4)
    with pytest.raises(ConfigError, match="needs 500 real test slices; the test split of acdc-phantom has"):
        create_study(model, "acdc-phantom", out=tmp_path / "b", n=1000, dataset_config=DATA)
    assert not (tmp_path / "b" / "study.sqlite").exists()


def test_the_service_refuses_bad_tokens_and_answers_and_never_sends_the_key(study):
    from fastapi.testclient import TestClient

    from medgan_zoo.turing.app import make_app

    client = TestClient(make_app(study.folder))
    a, b = _token(study, "rater-1"), _token(study, "rater-2")
    for url in ("/r/forged", "/api/forged/next", "/img/forged/x"):
        assert client.get(url).status_code == 403
    forged = client.post("/api/forged/answer", json={"image": "x", "answer": "real", "milliseconds": 1})
    assert forged.status_code == 403
    key = _key(study.folder)
    seen_text = []
    first_b = client.get(f"/api/{b}/next").json()["image"]
    answered: list[str] = []
    for _ in range(14):
        page = client.get(f"/r/{a}")
        item = client.get(f"/api/{a}/next")
        seen_text += [page.text, item.text, str(dict(item.headers))]
        image = item.json()["image"]
        pixels = client.get(f"/img/{a}/{image}")
        assert pixels.status_code == 200 and "real" not in str(dict(pixels.headers)).lower()
        assert client.get(f"/img/{a}/{first_b}").status_code in (200, 404)
        if image != first_b:
            assert client.get(f"/img/{a}/{first_b}").status_code == 404  # only the rater's current image
        other = next((i for i in key if i != image and i not in answered), None)
        if other is not None:  # an image further on in the sequence
            refused = client.post(f"/api/{a}/answer", json={"image": other, "answer": "real", "milliseconds": 5})
            assert refused.status_code == 409 and "not the rater's next image" in refused.text
        if answered:
            twice = client.post(f"/api/{a}/answer", json={"image": answered[0], "answer": "real", "milliseconds": 5})
            assert twice.status_code == 409 and "answered already" in twice.text
        for bad in ({"image": image, "answer": "maybe", "milliseconds": 5},
                    {"image": image, "answer": "real", "confidence": 7, "milliseconds": 5},
                    {"image": image, "answer": "real", "milliseconds": -1},
                    {"image": image, "answer": "real", "milliseconds": 5, "origin": "real"}):
            assert client.post(f"/api/{a}/answer", json=bad).status_code == 422
        reply = client.post(f"/api/{a}/answer", json={"image": image, "answer": "real", "confidence": 2,
                                                      "milliseconds": 700})
        assert reply.status_code == 200
        block = item.json()["block"]
        assert ("correct" in reply.json()) == (block == "practice")  # feedback in practice only
        answered.append(image)
        again = client.post(f"/api/{a}/answer", json={"image": image, "answer": "generated", "milliseconds": 9})
        assert again.status_code == 409
    assert client.get(f"/api/{a}/next").json()["block"] == "done"
    for text in seen_text:  # no image's origin next to its id, no key field
        assert "origin" not in text and "truth" not in text
    # rater B saw nothing of A's answers, and can't answer A's images out of turn
    assert client.get(f"/api/{b}/next").json()["position"] == 0
    store = Store(study.folder)
    assert [p["answered"] for p in store.progress()] == [14, 0]
    rows = store.table()
    assert len(rows) == 10 and all(r["answer"] == "real" and r["confidence"] == 2 for r in rows)
    # a new server process (the same database) has every acknowledged answer
    assert len(Store(study.folder).table()) == 10


def test_bodies_are_capped_after_the_token_and_errors_never_echo_what_was_sent(study):
    from fastapi.testclient import TestClient

    from medgan_zoo.turing.app import make_app

    client = TestClient(make_app(study.folder))
    token = _token(study, "rater-1")
    big = b"x" * 100_000
    assert client.post("/api/NOT-A-TOKEN/answer", content=big).status_code == 403  # the token first
    refused = client.post(f"/api/{token}/answer", content=big, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "over 4096 bytes" in refused.text

    def chunks():  # no content-length: counted on the bytes received
        for _ in range(50):
            yield b"y" * 1000

    assert client.post(f"/api/{token}/answer", content=chunks()).status_code == 413
    marker = "ECHO-" * 20
    for body in ({"image": marker, "answer": "real", "milliseconds": "ECHO-ms"},
                 {"image": "x", "answer": marker, "milliseconds": 1}, {"image": "x", marker: 1}):
        reply = client.post(f"/api/{token}/answer", json=body)
        assert reply.status_code in (409, 422) and "ECHO" not in reply.text, reply.text
    item = client.get(f"/api/{token}/next").json()
    never = client.post(f"/api/{token}/answer", json={"image": item["image"], "answer": "real", "milliseconds": 5})
    assert never.status_code == 409 and "never shown to the rater" in never.text
    assert client.get(item["url"]).status_code == 200
    assert client.post(f"/api/{token}/answer", json={"image": item["image"], "answer": "real",
                                                     "milliseconds": 5}).status_code == 200
    with Store(study.folder).connect() as c:
        assert c.execute("SELECT COUNT(*) FROM served").fetchone()[0] == 1


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _post_raw(port: int, path: str, megabytes: int, chunked: bool) -> bytes:
    """Stream a large body at the server; returns the status line it answered with."""
    import socket

    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {megabytes << 20}\r\n\r\n"
    block = b"x" * (1 << 16)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for _ in range(megabytes * 16):
                sock.sendall(b"10000\r\n" + block + b"\r\n" if chunked else block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the rest was never read
        try:
            return sock.recv(64).split(b"\r\n")[0]
        except ConnectionResetError:
            return b"reset"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc")
def test_a_huge_body_without_a_token_is_refused_unread_by_the_real_server(study, free_port):
    import subprocess
    import sys

    import httpx

    server = subprocess.Popen([sys.executable, "-m", "medgan_zoo", "turing-test", "serve", str(study.folder),
                               "--port", str(free_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{free_port}/r/x", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        before = _rss_mb(server.pid)
        assert _post_raw(free_port, "/api/NOT-A-TOKEN/answer", 64, chunked=False) == b"HTTP/1.1 403 Forbidden"
        token = _token(study, "rater-1")
        status = _post_raw(free_port, f"/api/{token}/answer", 64, chunked=True)
        assert status in (b"HTTP/1.1 413 Request Entity Too Large", b"HTTP/1.1 413 Content Too Large"), status
        assert _rss_mb(server.pid) - before < 20  # 128 MB sent, next to nothing kept
    finally:
        server.kill()
        server.wait(timeout=10)


def test_image_files_have_one_size_and_the_seed_is_random_and_kept_with_the_key(study, model, tmp_path):
    from medgan_zoo.turing.create import create_study

    sizes = {f.stat().st_size for f in (study.folder / "images").glob("*.png")}
    assert len(sizes) == 1  # size alone cannot sort real from generated
    other = create_study(model, "acdc-phantom", out=tmp_path / "other", n=4, raters=1, practice=0,
                         dataset_config=DATA)
    seeds = {Store(f).meta()["seed"] for f in (study.folder, other.folder)}
    assert 3 in seeds and len(seeds) == 2 and 0 not in seeds


def test_a_full_disk_on_commit_reports_its_own_cause_not_a_failed_rollback(study):
    import sqlite3

    store = Store(study.folder)
    token = _token(study, "rater-1")
    image = store.next_item(token).image
    store.mark_served(token, image)

    class FullDisk:  # SQLite rolls back by itself when a COMMIT cannot be written
        def __init__(self, connection):
            self.connection = connection

        def __getattr__(self, name):
            return getattr(self.connection, name)

        def execute(self, sql, *args):
            if sql == "COMMIT":
                self.connection.execute("ROLLBACK")
                raise sqlite3.OperationalError("database or disk is full")
            return self.connection.execute(sql, *args)

    with store.connect() as connection:
        store._local.connection = FullDisk(connection)
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        store.answer(token, image, "real", None, 5)
    store._local.connection = store._local.connection.connection
    assert store.next_item(token).position == 0  # nothing recorded


def test_report_and_status(study, tmp_path):
    from medgan_zoo.turing.report import status_text, write_report

    store = Store(study.folder)
    for token, _, sequence in store.raters():
        for k, image in enumerate(sequence):
            store.mark_served(token, image)
            store.answer(token, image, "generated" if k % 2 else "real", 1 + k % 5, 800 + k)
    text = write_report(study.folder, tmp_path / "r").read_text()
    assert "| pooled | 20 |" in text and "Fleiss' kappa" in text and "| rater-1 / rater-2 |" in text
    for name in ("answers.csv", "raters.csv", "turing_test.png", "turing_test.json"):
        assert (tmp_path / "r" / name).stat().st_size > 100, name
    assert "rater-1: finished" in status_text(study.folder)


def test_a_rater_in_a_real_browser(study, chromium, free_port):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    import uvicorn

    from medgan_zoo.turing.app import make_app

    port = free_port
    server = uvicorn.Server(uvicorn.Config(make_app(study.folder), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}{study.links['rater-1']}"
    pressed: list[tuple[str, int]] = []
    bodies: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            tab = browser.new_page()
            failed: list[str] = []
            tab.on("response", lambda r: bodies.append(r.text() if "image" not in r.headers.get("content-type", "")
                                                       else r.url))
            tab.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            tab.goto(url)
            tab.wait_for_function("document.querySelector('#progress').innerText.startsWith('Practice 1')")
            tab.keyboard.press("3")  # a confidence before R/F: the page says what comes first, records nothing
            tab.wait_for_function("document.querySelector('#feedback').innerText.startsWith('First R (real)')")
            assert tab.inner_text("#progress").startswith("Practice 1")

            def answer(letter: str, confidence: int) -> None:
                before = tab.inner_text("#progress")
                tab.keyboard.press(letter)
                tab.keyboard.press(str(confidence))
                tab.wait_for_function("b => document.querySelector('#progress').innerText !== b", arg=before,
                                      timeout=10000)

            tab.wait_for_function("document.querySelector('#progress').innerText.startsWith('Practice 1')")
            for _ in range(4):  # the practice block, with feedback
                answer("r", 3)
            assert tab.inner_text("#progress") == "Image 1 of 10"
            for k in range(10):
                letter, confidence = ("f" if k % 3 else "r"), 1 + k % 5
                answer(letter, confidence)
                pressed.append(("generated" if letter == "f" else "real", confidence))
                if k == 4:  # a reload in the middle: the rater continues where they stopped
                    tab.reload()
                    tab.wait_for_function("document.querySelector('#progress').innerText === 'Image 6 of 10'")
            tab.wait_for_function("document.querySelector('#progress').innerText.startsWith('Finished')")
            assert not tab.is_visible("#choice") and not tab.is_visible("#confidence")  # nothing left to press
            assert failed == []  # no request of the page's own fails (the browser asked for /favicon.ico before)
            tab.goto(f"http://127.0.0.1:{port}{study.links['rater-2']}")  # another rater starts at the start
            tab.wait_for_function("document.querySelector('#progress').innerText.startsWith('Practice 1')")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    rows = Store(study.folder).table()
    assert [(r["answer"], r["confidence"]) for r in rows] == pressed
    assert all(r["milliseconds"] >= 0 for r in rows)
    for body in bodies:
        assert "origin" not in body and "truth" not in body
    scored_replies = [b for b in bodies if '"recorded"' in b and '"correct"' not in b]
    assert len(scored_replies) == 10


def test_killing_the_server_loses_no_acknowledged_answer(study, free_port):
    import signal
    import subprocess
    import sys

    import httpx

    port = free_port
    server = subprocess.Popen([sys.executable, "-m", "medgan_zoo", "turing-test", "serve", str(study.folder),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    token = _token(study, "rater-2")
    acknowledged = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(100):
                try:
                    client.get(f"/api/{token}/next")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for _ in range(6):
                item = client.get(f"/api/{token}/next").json()
                assert client.get(item["url"]).status_code == 200  # an answer follows its image
                reply = client.post(f"/api/{token}/answer", json={"image": item["image"], "answer": "generated",
                                                                   "confidence": 5, "milliseconds": 10})
                assert reply.status_code == 200
                acknowledged.append(item["image"])
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert Store(study.folder).next_item(token).position == 6
    with Store(study.folder).connect() as c:
        stored = [row[0] for row in c.execute("SELECT image FROM answers WHERE rater = ? ORDER BY position", (token,))]
    assert stored == acknowledged


def test_create_on_the_command_line_says_how_little_a_small_study_can_find(model, tmp_path):
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    result = CliRunner().invoke(cli, ["turing-test", "create", str(model), "--dataset", "acdc-phantom", "-n", "10",
                                      "--raters", "1", "--practice", "2", "--set", "dataset.train_subjects=2",
                                      "--set", "dataset.test_subjects=1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    note = next(line for line in result.output.splitlines() if line.startswith("note: with 10 scored images"))
    assert "0.8: " in note and "docs/turing-test.md" in note


def test_the_report_says_in_words_which_way_a_rater_errs_and_why_two_kappas_differ(study, tmp_path):
    from medgan_zoo.turing.report import write_report

    store = Store(study.folder)
    key = _key(study.folder)
    for token, name, sequence in store.raters():
        for image in sequence:
            store.mark_served(token, image)
            truth = key[image]
            if name == "rater-1":  # swaps the labels on every image
                answer = "real" if truth == "generated" else "generated"
            else:  # leans: "generated" to everything
                answer = "generated"
            store.answer(token, image, answer, 3, 500)
    text = write_report(study.folder, tmp_path / "r").read_text()
    words = text.split("## In words", 1)[1]
    assert "**rater-1** (called 0 of 5 generated images \"generated\" and 5 of 5 real ones \"generated\"" in words
    assert "**below chance**, systematically: this rater calls generated images real" in words
    assert "**rater-2**" in words and "no evidence that this rater tells real from generated" in words
    assert "rater-2 said \"generated\" to 100%" in words and "Trust Cohen's for two raters" in words
    assert "**Careful with the group's number**: rater-1 errs the other way" in words
    assert text.index("## In words") < text.index("| rater | answers")  # before the tables
