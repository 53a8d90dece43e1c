"""REST error answers: a stable `error` code and one sentence, never SQL, parameters or the input.

Every client mistake is a 4xx: 400 bad phone/CSV, 401 no key, 403 missing permission (or a
gate refusal, which carries `refused: true`), 404, 409, 413 body too large, 422 invalid
field. 503 `store_unavailable` only when the store cannot be reached or written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer: status, stable code, one sentence, and optional extra fields."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return {**self.extra, "error": self.code, "detail": self.detail}

    def response(self) -> JSONResponse:
        """The answer to send."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers or None)


def store_unavailable(detail: str = "the store cannot be written right now; try again shortly") -> ApiError:
    """503 for a real store outage, in the gate's refusal shape (fail closed, SPEC 7.8)."""
    return ApiError(503, "store_unavailable", detail, extra={"refused": True, "reason": "store_unavailable"})


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> ApiError:
    """422 naming each bad field and the problem, without echoing the value sent."""
    problems = [
        {"field": _field(e.get("loc", ())), "problem": str(e.get("msg", "invalid"))} for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    return ApiError(
        422,
        "invalid_request",
        f"field '{first['field']}': {first['problem']}; fix it and send the request again",
        extra={"fields": problems[:20]},
    )


def install_error_handlers(app: FastAPI, max_body_bytes: int | None = None) -> None:
    """Register the handlers (and the request body limit) on an app."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_error(exc).response()

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = STATUS_CODES.get(exc.status_code, "error")
        return ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    if max_body_bytes is not None:
        app.add_middleware(BodyLimit, max_bytes=max_body_bytes)


class BodyLimit:
    """ASGI middleware: 413 `body_too_large` for an HTTP request body over max_bytes, before parsing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, "body_too_large", self._detail())
            return message

        await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"the request body is over {self.max_bytes} bytes (server.max_body_bytes); send less"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await ApiError(413, "body_too_large", self._detail()).response()(scope, receive, send)
