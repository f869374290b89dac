"""What the HTTP service takes in, and what it says back about bad input.

- Size limits, before anything is parsed: a body larger than ``max_body`` is answered 413 (from
  its Content-Length at once, or as soon as a streamed body passes the limit), and headers
  larger than ``max_headers`` in all are answered 431.
- Text fields must be valid Unicode (a lone surrogate, which JSON can spell as ``"\\ud800"``,
  is refused with a 422 naming the field).
- A 422 never echoes large input back, nor anything JSON cannot carry (NaN, infinities, lone
  surrogates): each error names the field, says what is wrong, and shows the input only when
  it is a short, plain value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["MAX_BODY", "MAX_HEADERS", "SizeLimits", "Text", "add_error_handlers", "safe_text"]

MAX_BODY = 4 * 2**20  # bytes: a batch of 10,000 events with long client ids fits
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
