"""What the HTTP service takes in, and what it says back about bad input.

- Size limits, before anything is parsed: a body larger than ``max_body`` is answered 413 (from
  its Content-Length at once, or as soon as a streamed body passes the limit), and headers
  larger than ``max_headers`` in all are answered 431.
- Text fields must be valid Unicode (a lone surrogate, which JSON can spell as ``"\\ud800"``,
  is refused with a 422 naming the field).
- A JSON body is read strictly (:class:`StrictRoute`): a key given twice in one object, a body
  that is not UTF-8, or one nested too deeply, is refused with a 422 that says where, never
  read with the last key winning nor answered 400.
- Slow and idle connections are closed (:func:`guarded_protocol`): a request's head must
  arrive within ``HEAD_SECONDS`` of the connection or of its first byte, its body within
  ``BODY_SECONDS`` of its head (both answered 408), a keep-alive connection idle for
  ``IDLE_SECONDS`` is closed, and beyond ``MAX_CONNECTIONS`` open at once a new one is
  answered 503 and closed.
- A 422 never echoes large input back, nor anything JSON cannot carry (NaN, infinities, lone
  surrogates): each error names the field, says what is wrong, and shows the input only when
  it is a short, plain value.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.scenario.packs import DuplicateKeyError, strict_json

__all__ = [
    "BODY_SECONDS",
    "HEAD_SECONDS",
    "IDLE_SECONDS",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "MAX_HEADERS",
    "SizeLimits",
    "StrictRoute",
    "Text",
    "add_error_handlers",
    "guarded_protocol",
    "safe_text",
]

MAX_BODY = 4 * 2**20  # bytes: a batch of 10,000 events with long client ids fits
HEAD_SECONDS = 10.0  # for a request's line and headers to arrive (a few hundred bytes)
BODY_SECONDS = 60.0  # for its body to arrive: 4 MiB at 70 KB/s
IDLE_SECONDS = 5  # a keep-alive connection with no request (uvicorn's timeout_keep_alive)
MAX_CONNECTIONS = 1024  # open at once: each costs a socket, a buffer and a place in the loop
MAX_HEADERS = 16 * 2**10  # bytes of all header names and values together
_SHOWN = 100  # characters of a string shown back in an error


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "must be valid Unicode text; it holds a lone surrogate "
            "(an unpaired \\ud800-\\udfff escape)"
        ) from None
    return value


#: A text field that must be valid Unicode.
Text = Annotated[str, AfterValidator(_unicode)]


def safe_text(value: object, limit: int = 2000) -> str:
    """A string any JSON encoder and terminal can carry: lone surrogates escaped, cut short."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text):,} characters)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shown(value: object) -> object | None:
    """The input shown in an error: a short, plain value only."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**30 else safe_text(value, 40)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return safe_text(value, _SHOWN)
    return None  # objects and lists are not echoed


def _error(e: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "loc": [x if isinstance(x, int) else safe_text(x, _SHOWN) for x in e.get("loc", ())],
        "msg": safe_text(e.get("msg", ""), 500),
        "type": e.get("type", ""),
    }
    value = e.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        out["msg"] += " (NaN and infinities are not numbers here)"
    shown = _shown(value)
    if shown is not None:
        out["input"] = shown
    return out


class _StrictRequest(Request):
    """A request whose JSON body is read refusing keys given twice (and saying where)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = strict_json(body)
            except DuplicateKeyError as exc:
                raise _unreadable(["body", *exc.path, exc.key], str(exc), "duplicate_key") from None
            except UnicodeDecodeError:
                raise _unreadable(["body"], "the body is not UTF-8 text", "json_invalid") from None
            except RecursionError:
                raise _unreadable(
                    ["body"], "the body is nested too deeply to be a request", "json_invalid"
                ) from None
        return self._json


def _unreadable(loc: list[Any], msg: str, kind: str) -> HTTPException:
    """A 422 for a body that cannot be read (raised as an HTTP error, which FastAPI passes
    through its body parsing as it is)."""
    return HTTPException(
        422,
        [
            {
                "loc": [x if isinstance(x, int) else safe_text(x, _SHOWN) for x in loc],
                "msg": msg,
                "type": kind,
            }
        ],
    )


class StrictRoute(APIRoute):
    """The API's routes: JSON bodies read by :class:`_StrictRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict


def add_error_handlers(app: Any) -> None:
    """Answer validation errors and HTTP errors with bodies that are safe to send."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        detail = [_error(e) for e in errors[:20]]
        if len(errors) > 20:
            detail.append(
                {
                    "loc": [],
                    "msg": f"... and {len(errors) - 20:,} more errors",
                    "type": "too_many_errors",
                }
            )
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, (list, dict)) else safe_text(exc.detail)
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": detail},
            headers=getattr(exc, "headers", None),
        )


Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class SizeLimits:
    """ASGI middleware: refuse oversized headers (431) and bodies (413) before parsing.

    Args:
        app: the application.
        max_body: the largest body, in bytes.
        max_headers: the largest total of header names and values, in bytes.
    """

    def __init__(self, app: Any, max_body: int = MAX_BODY, max_headers: int = MAX_HEADERS) -> None:
        self.app, self.max_body, self.max_headers = app, max_body, max_headers

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if sum(len(k) + len(v) for k, v in headers) > self.max_headers:
            await _refuse(send, 431, f"request headers over {self.max_headers:,} bytes")
            return
        for name, value in headers:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _refuse(send, 400, "Content-Length is not a number")
                    return
                if length > self.max_body:
                    await _refuse(send, 413, self._too_large())
                    return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, counted, send)

    def _too_large(self) -> str:
        return (
            f"request body over {self.max_body:,} bytes: send events in batches of at most 10,000"
        )


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def guarded_protocol() -> type | str:
    """uvicorn's HTTP/1.1 protocol with deadlines for each request's head and body and a bound
    on open connections (the name of uvicorn's own choice, ``auto``, where httptools, which it
    extends, is not installed)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        return "auto"

    class Guarded(HttpToolsProtocol):
        """Each request's head and body have a deadline; too many connections, a 503."""

        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > MAX_CONNECTIONS:
                self._answer(503, f"more than {MAX_CONNECTIONS:,} connections are open: try again")
                return
            self._arm(HEAD_SECONDS)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(HEAD_SECONDS)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(BODY_SECONDS)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if (
                self.cycle is not None
                and not self.cycle.response_complete
                and self.cycle.response_started
            ):
                self.transport.close()  # a response is on its way: nothing more to say
            else:
                self._answer(408, "the request did not arrive in time: send it whole, faster")

        def _answer(self, status: int, message: str) -> None:
            if self.transport.is_closing():
                return
            body = json.dumps({"detail": message}).encode()
            reason = {408: "Request Timeout", 503: "Service Unavailable"}[status]
            self.transport.write(
                f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )
            self.transport.close()
            if self.cycle is not None:
                self.cycle.disconnected = True

    return Guarded
