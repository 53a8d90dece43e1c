"""Auth for REST (X-API-Key) and transports (call token, Twilio signature) (SPEC 9.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import Header, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from agent.store import ClaimedCall, Store


def api_key_ok(given: str | None, keys: list[str]) -> bool:
    """Constant-time check of a key against the configured keys; no keys configured = nobody."""
    if not given:
        return False
    return any(hmac.compare_digest(given.encode(), k.encode()) for k in keys if k)


async def require_api_key(request: Request, x_api_key: str | None = Header(default=None)) -> None:
    """FastAPI dependency: 401 unless X-API-Key is one of settings.server.api_keys."""
    settings = getattr(request.app.state, "settings", None)
    keys = list(settings.server.api_keys) if settings is not None else []
    if not api_key_ok(x_api_key, keys):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong X-API-Key header; use a key from server.api_keys",
            headers={"WWW-Authenticate": "X-API-Key"},
        )


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
