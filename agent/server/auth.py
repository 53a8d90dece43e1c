"""Auth for REST (API keys with roles) and transports (call token, Twilio signature) (SPEC 9.2).

A key is sent as `X-API-Key: KEY` or `Authorization: Bearer KEY` (what Prometheus can send).
Keys come from `server.api_keys` (simple form: the admin role) and `server.role_keys` (named,
with roles); each route needs one permission from agent/server/roles.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.server.errors import ApiError
from agent.server.roles import Permission, permissions

if TYPE_CHECKING:
    from agent.config import ServerConfig
    from agent.store import ClaimedCall, Store


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is from: the key's name (for the audit trail) and what it may do."""

    name: str
    permissions: frozenset[Permission]

    def may(self, permission: Permission) -> bool:
        """True when the key holds the permission."""
        return permission in self.permissions


def api_key_ok(given: str | None, keys: list[str]) -> bool:
    """Constant-time check of a key against the configured keys; no keys configured = nobody."""
    if not given:
        return False
    return any(hmac.compare_digest(given.encode(), k.encode()) for k in keys if k)


def principal_for(given: str | None, server: ServerConfig) -> Principal | None:
    """The principal a presented key belongs to, or None (every key is compared, in constant time)."""
    if not given:
        return None
    found: Principal | None = None
    for index, key in enumerate(server.api_keys):
        if key and hmac.compare_digest(given.encode(), key.encode()):
            found = found or Principal(f"api_keys[{index}]", permissions(["admin"]))
    for rk in server.role_keys:
        if hmac.compare_digest(given.encode(), rk.key.encode()):
            found = found or Principal(rk.name, permissions(rk.roles))
    return found


def presented_key(request: Request) -> str | None:
    """The key in X-API-Key, or in `Authorization: Bearer`."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def authenticate(request: Request) -> Principal:
    """The request's principal; ApiError 401 when the key is missing or unknown."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    settings = getattr(request.app.state, "settings", None)
    who = principal_for(presented_key(request), settings.server) if settings is not None else None
    if who is None:
        raise ApiError(
            401,
            "unauthorized",
            "missing or wrong API key; send X-API-Key with a key from server.api_keys or server.role_keys",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    request.state.principal = who
    return who


async def require_api_key(request: Request) -> Principal:
    """FastAPI dependency: 401 unless the request carries a configured key."""
    return authenticate(request)


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency factory: 401 without a key, 403 `forbidden` when it lacks the permission."""

    async def check(request: Request) -> Principal:
        who = authenticate(request)
        if not who.may(permission):
            raise ApiError(
                403,
                "forbidden",
                f"the key '{who.name}' lacks the {permission.value} permission; use a key whose role has it",
            )
        return who

    return check


def require_any(*wanted: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """Like `require`, satisfied by any one of the permissions."""

    async def check(request: Request) -> Principal:
        who = authenticate(request)
        if not any(who.may(p) for p in wanted):
            names = " or ".join(p.value for p in wanted)
            raise ApiError(403, "forbidden", f"the key '{who.name}' lacks the {names} permission")
        return who

    return check


METRICS_PATHS = frozenset({"/metrics"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class OpsGuard:
    """ASGI middleware: /metrics and the docs need a key once server.metrics_public / docs_public is false."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path in METRICS_PATHS or path in DOCS_PATHS):
            request = Request(scope)
            server = request.app.state.settings.server
            wanted = Permission.METRICS_READ if path in METRICS_PATHS else Permission.DOCS_READ
            public = server.metrics_public if path in METRICS_PATHS else server.docs_public
            if not public:
                try:
                    await require(wanted)(request)
                except ApiError as exc:
                    await exc.response()(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def check_transport_token(
    store: Store, call_id: str, token: str, now: datetime | None = None
) -> ClaimedCall:
    """Claim a call with its single-use token for a transport connection; raises InvalidToken."""
    when = now or datetime.now(UTC)
    return await run_in_threadpool(store.claim_call, call_id, token, when)


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each sorted key+value))."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def check_twilio_signature(
    url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> bool:
    """True when the signature matches; for a WebSocket upgrade pass params={} (Twilio signs the URL)."""
    if not signature or not auth_token:
        return False
    expected = twilio_signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode(), signature.encode())
