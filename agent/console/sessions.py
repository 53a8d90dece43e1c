"""Console sessions: a signed cookie naming the user, with its expiry and the session's CSRF token.

The cookie is `base64url(JSON).HMAC-SHA256` under a secret kept in server.console_secret_file
(created 0600 at start when absent, so sessions outlive a restart). It is HttpOnly,
SameSite=Strict, Secure when the request came over https, and carries no password. Every
POST must echo the session's CSRF token (form field `csrf` or header X-CSRF-Token). The
sign-in form, before there is a session, uses a double-submit token in its own cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "va_console"
LOGIN_COOKIE = "va_console_login"
LIFETIME_S = 8 * 3600  # a session lasts one working day, then sign in again
PATH = "/console"


def load_secret(path: Path | None) -> bytes:
    """The signing secret from `path`, created (0600) when absent; a fresh one per process when None."""
    if path is None:
        return secrets.token_bytes(32)
    path = Path(path)
    if path.is_file():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(raw.hex() + "\n")
    return raw


@dataclass(frozen=True, slots=True)
class Session:
    """What a valid cookie says."""

    user: str
    csrf: str
    expires: int


class Sessions:
    """Issue and check session cookies with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, body: bytes) -> str:
        digest = hmac.new(self._secret, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, session: Session) -> str:
        body = base64.urlsafe_b64encode(json.dumps(
            {"u": session.user, "c": session.csrf, "e": session.expires}).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body.encode())}"

    def decode(self, value: str | None, now: float) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not value or "." not in value:
            return None
        body, sig = value.rsplit(".", 1)
        if not hmac.compare_digest(sig.encode(), self._sign(body.encode()).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(str(data["u"]), str(data["c"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > now else None

    def start(self, response: Response, request: Request, user: str, now: float) -> Session:
        """Set a new session cookie (a fresh CSRF token) on the response."""
        session = Session(user, secrets.token_urlsafe(24), int(now) + LIFETIME_S)
        set_cookie(response, request, COOKIE, self.encode(session), LIFETIME_S)
        response.delete_cookie(LOGIN_COOKIE, path=PATH)
        return session


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, Secure over https, scoped to /console."""
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def csrf_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison of the session's token with the one the request sent."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
