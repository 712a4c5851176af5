"""``turing-test serve``: the rater web app (FastAPI on uvicorn).

Every URL carries the rater's token; without a valid one the app answers 403 before reading any
body, and bodies over 4 KB get 413 (:mod:`.guard`). A rater can fetch only the image that is next in
their own sequence and post only an answer for an image they fetched. Nothing the app sends (page,
script, JSON, image bytes and their size, headers, error messages) says whether an image is real,
except the feedback of the practice block, after the answer; errors never echo what was sent.
"""

from __future__ import annotations

import logging
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .guard import Guard
from .store import IMAGES, AnswerRefused, Store

log = logging.getLogger("medgan_zoo.turing")

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class Answer(BaseModel):
    """One answer as the page posts it (unknown fields refused)."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(max_length=64)
    answer: str
    confidence: int | None = None
    milliseconds: int = Field(ge=0, le=24 * 3600 * 1000)


def rater_page() -> str:
    return resources.files("medgan_zoo.turing").joinpath("rater.html").read_text()


def make_app(folder: str | Path):
    """The app for the study in ``folder``."""
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    store = Store(folder)
    if not store.path.is_file():
        from ..errors import ConfigError

        raise ConfigError(f"{folder} holds no study ({store.path.name} is missing): create one with "
                          "`medgan-zoo turing-test create`")
    images = Path(folder) / IMAGES
    page = rater_page()
    practice = store.meta().get("practice", 0)
    store.migrate()
    app = FastAPI(title="medgan-zoo visual Turing test", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Guard, known=lambda token: store.rater(token) is not None)

    @app.exception_handler(RequestValidationError)
    def invalid(request, exc: RequestValidationError) -> JSONResponse:  # FastAPI's own echoes the input
        names = {str(e.get("loc", ("", ""))[1]) if len(e.get("loc", ())) > 1 else "body" for e in exc.errors()}
        fields = sorted(n if n in Answer.model_fields or n == "body" else "an unknown field" for n in names)
        return JSONResponse({"detail": f"invalid answer: {', '.join(fields)}"}, status_code=422, headers=NO_STORE)

    def rater_or_403(token: str) -> list[str]:
        found = store.rater(token)
        if found is None:
            raise HTTPException(status_code=403, detail="unknown rater link: ask the study's organiser for yours")
        return found[1]

    @app.get("/r/{token}", response_class=HTMLResponse)
    def page_for(token: str) -> HTMLResponse:
        rater_or_403(token)
        return HTMLResponse(page, headers=NO_STORE)

    @app.get("/api/{token}/next")
    def next_item(token: str) -> JSONResponse:
        rater_or_403(token)
        item = store.next_item(token)
        body: dict[str, Any] = {"block": item.block, "position": item.position, "total": item.total,
                                "practice": practice}
        if item.image is not None:
            body["image"] = item.image
            body["url"] = f"/img/{token}/{item.image}"
        return JSONResponse(body, headers=NO_STORE)

    @app.get("/img/{token}/{image}")
    def image_bytes(token: str, image: str) -> Response:
        rater_or_403(token)
        if store.next_item(token).image != image:  # only the image the rater is looking at now
            raise HTTPException(status_code=404, detail="not your current image")
        data = (images / f"{image}.png").read_bytes()
        try:
            store.mark_served(token, image)
        except sqlite3.Error as exc:
            log.error("cannot record that %s was shown: %s", image, exc)
            raise HTTPException(status_code=503, detail="the server cannot store its records now") from None
        return Response(data, media_type="image/png", headers=NO_STORE)

    @app.post("/api/{token}/answer")
    def answer(token: str, body: Answer) -> JSONResponse:
        rater_or_403(token)
        try:
            reply = store.answer(token, body.image, body.answer, body.confidence, body.milliseconds)
        except AnswerRefused as exc:
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        except sqlite3.Error as exc:  # e.g. "database or disk is full": the answer was not stored
            log.error("cannot store an answer in %s: %s", store.path, exc)
            raise HTTPException(status_code=503, detail="the answer could not be stored (the server's disk?); "
                                "it was not recorded: try again later") from None
        return JSONResponse(reply, headers=NO_STORE)

    return app


def bind(host: str = "127.0.0.1", port: int = 8765):
    """The listening socket, bound before anything is announced: a port in use is one line."""
    import socket

    from ..errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc} (another server on that port? "
                          "pass --port with a free one)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(folder: str | Path, host: str = "127.0.0.1", port: int = 8765, sock=None) -> None:
    """Run the app until Ctrl-C (answers are committed one by one; nothing is lost on a kill);
    ``sock``: a socket from :func:`bind` (default: bound here)."""
    import uvicorn

    sock = sock or bind(host, port)
    server = uvicorn.Server(uvicorn.Config(make_app(folder), log_level="warning"))
    server.run(sockets=[sock])
