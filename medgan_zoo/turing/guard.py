"""What the rater server checks before any of its routes runs: the token first (403 without reading
the body), then the body's size on the bytes actually received, chunked bodies included (413 as soon
as it passes the cap). Uvicorn and Starlette set no limit of their own, and FastAPI reads and
validates a body before a route's own check could refuse it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

#: The largest request body the app accepts (an answer is well under 200 bytes).
MAX_BODY = 4096

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: ``known(token)`` says whether a rater token exists."""

    def __init__(self, app: Callable[..., Awaitable[None]], known: Callable[[str], bool],
                 limit: int = MAX_BODY) -> None:
        self.app = app
        self.known = known
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parts = scope["path"].strip("/").split("/")
        if len(parts) >= 2 and parts[0] in ("r", "api", "img") and not self.known(parts[1]):
            await _reply(send, 403, "unknown rater link: ask the study's organiser for yours")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _reply(send, 413, f"request body over {self.limit} bytes")
            return
        body = b""
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:  # read at most limit + 1 bytes, whatever the framing
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _reply(send, 413, f"request body over {self.limit} bytes")
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


__all__ = ["MAX_BODY", "Guard"]
