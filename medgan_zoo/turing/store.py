"""A reader study's SQLite database: the images, the answer key, the raters and their answers.

The answer key (which image is real) lives only here, never in a file name or an image. Every
answer is one transaction (WAL journal, synchronous FULL): an acknowledged answer survives the
server being killed. Each rater has a random token and an own random order of the same images.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE = "study.sqlite"
IMAGES = "images"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, origin TEXT NOT NULL CHECK (origin IN ('real', 'generated')),
    block TEXT NOT NULL CHECK (block IN ('practice', 'scored')), source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raters (
    token TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, sequence TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    rater TEXT NOT NULL REFERENCES raters(token), position INTEGER NOT NULL, image TEXT NOT NULL REFERENCES images(id),
    answer TEXT NOT NULL CHECK (answer IN ('real', 'generated')), confidence INTEGER CHECK (confidence BETWEEN 1 AND 5),
    milliseconds INTEGER NOT NULL, answered_at REAL NOT NULL,
    PRIMARY KEY (rater, position), UNIQUE (rater, image));
CREATE TABLE IF NOT EXISTS served (
    rater TEXT NOT NULL REFERENCES raters(token), image TEXT NOT NULL REFERENCES images(id),
    served_at REAL NOT NULL, PRIMARY KEY (rater, image));
"""
ANSWERS = ("real", "generated")


class AnswerRefused(Exception):
    """An answer that is not the rater's next one, a duplicate, or malformed; nothing was written."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Item:
    """What a rater sees next: no origin, only an opaque image id."""

    block: str  # practice | scored | done
    position: int
    total: int
    image: str | None


class Store:
    """One study's database (a connection per call: safe from several server threads)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / DATABASE
        self._local = threading.local()
        self._sequences: dict[str, tuple[str, list[str]]] | None = None  # fixed once created
        self._blocks: dict[str, str] | None = None

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # explicit transactions
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the answer is acknowledged
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (one per server thread, reused: opening one costs more than a query)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._open()
        yield connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _load_fixed(self) -> None:
        if self._sequences is None:
            with self.connect() as c:
                self._sequences = {t: (n, json.loads(s)) for t, n, s in c.execute("SELECT token, name, sequence "
                                                                                  "FROM raters")}
                self._blocks = dict(c.execute("SELECT id, block FROM images"))

    def create(self, meta: dict[str, Any], images: list[tuple[str, str, str, str]],
               raters: list[tuple[str, str, list[str]]]) -> None:
        with self.connect() as c:
            c.executescript(SCHEMA)
            c.execute("BEGIN IMMEDIATE")
            c.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
            c.executemany("INSERT INTO images VALUES (?, ?, ?, ?)", images)
            c.executemany("INSERT INTO raters VALUES (?, ?, ?)", [(t, n, json.dumps(s)) for t, n, s in raters])
            c.execute("COMMIT")

    def migrate(self) -> None:
        """Tables added since a study was created (``served``)."""
        with self.connect() as c:
            c.executescript(SCHEMA)

    def mark_served(self, token: str, image: str) -> None:
        """Record when ``image`` was first sent to the rater (an answer needs it)."""
        with self.connect() as c:
            c.execute("INSERT OR IGNORE INTO served VALUES (?, ?, ?)", (token, image, time.time()))

    def meta(self) -> dict[str, Any]:
        with self.connect() as c:
            return {k: json.loads(v) for k, v in c.execute("SELECT key, value FROM meta")}

    def rater(self, token: str) -> tuple[str, list[str]] | None:
        self._load_fixed()
        assert self._sequences is not None
        return self._sequences.get(token)

    def raters(self) -> list[tuple[str, str, list[str]]]:
        with self.connect() as c:
            return [(t, n, json.loads(s)) for t, n, s in c.execute("SELECT token, name, sequence FROM raters "
                                                                  "ORDER BY name")]

    def next_item(self, token: str) -> Item:
        found = self.rater(token)
        if found is None:
            raise KeyError(token)
        _, sequence = found
        with self.connect() as c:
            done = c.execute("SELECT COUNT(*) FROM answers WHERE rater = ?", (token,)).fetchone()[0]
        if done >= len(sequence):
            return Item("done", done, len(sequence), None)
        assert self._blocks is not None
        return Item(self._blocks[sequence[done]], done, len(sequence), sequence[done])

    def answer(self, token: str, image: str, answer: str, confidence: int | None, milliseconds: int) -> dict[str, Any]:
        """Record one answer if ``image`` is the rater's next; returns what the rater may be told
        (in the practice block: whether it was right; in the scored block: nothing about it)."""
        if answer not in ANSWERS:
            raise AnswerRefused("answer must be 'real' or 'generated'", 422)  # never echo what was sent
        if confidence is not None and not (isinstance(confidence, int) and 1 <= confidence <= 5):
            raise AnswerRefused("confidence must be 1-5", 422)
        if not isinstance(milliseconds, int) or milliseconds < 0:
            raise AnswerRefused("milliseconds must be a non-negative integer", 422)
        found = self.rater(token)
        if found is None:
            raise AnswerRefused("unknown rater token", 403)
        _, sequence = found
        with self.connect() as c:
            c.execute("BEGIN IMMEDIATE")  # the check and the write are one transaction
            try:
                done = c.execute("SELECT COUNT(*) FROM answers WHERE rater = ?", (token,)).fetchone()[0]
                if done >= len(sequence):
                    raise AnswerRefused("this rater has answered every image already")
                if image != sequence[done]:
                    seen = c.execute("SELECT 1 FROM answers WHERE rater = ? AND image = ?", (token, image)).fetchone()
                    raise AnswerRefused("this image was answered already" if seen else
                                        "this is not the rater's next image")
                if c.execute("SELECT 1 FROM served WHERE rater = ? AND image = ?", (token, image)).fetchone() is None:
                    raise AnswerRefused("this image was never shown to the rater: an answer follows its image")
                c.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (token, done, image, answer, confidence, milliseconds, time.time()))
                origin, block = c.execute("SELECT origin, block FROM images WHERE id = ?", (image,)).fetchone()
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:  # a failed COMMIT (a full disk) may have rolled back already
                    c.execute("ROLLBACK")
                raise
        reply: dict[str, Any] = {"recorded": done}
        if block == "practice":
            reply["correct"] = origin == answer
            reply["was"] = origin
        return reply

    def table(self) -> list[dict[str, Any]]:
        """Every scored answer with its truth (for the report, never for the web app)."""
        with self.connect() as c:
            rows = c.execute(
                "SELECT r.name, a.position, a.image, i.origin, a.answer, a.confidence, a.milliseconds "
                "FROM answers a JOIN raters r ON r.token = a.rater JOIN images i ON i.id = a.image "
                "WHERE i.block = 'scored' ORDER BY r.name, a.position").fetchall()
        keys = ("rater", "position", "image", "truth", "answer", "confidence", "milliseconds")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def progress(self) -> list[dict[str, Any]]:
        with self.connect() as c:
            counts = dict(c.execute("SELECT rater, COUNT(*) FROM answers GROUP BY rater"))
        return [{"rater": name, "answered": counts.get(token, 0), "total": len(sequence)}
                for token, name, sequence in self.raters()]
