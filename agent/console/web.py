"""The console's plumbing: who is signed in, what they may do, CSRF on every POST, rendering pages.

Pages are rendered on the server with Jinja2 (autoescaped) and enhanced by one small
vanilla script (static/console.js); there is no build step.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from agent.console.identity import User, current
from agent.console.sessions import COOKIE, Session, Sessions, csrf_ok
from agent.server.roles import Permission
from agent.store.console_store import ConsoleStore

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "media-src 'self' blob:; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NAV = [  # (path, label, any of these permissions)
    ("/console/live", "Live calls", (Permission.CALLS,)),
    ("/console/calls", "Call records", (Permission.AUDIT_READ, Permission.CALLS)),
    ("/console/audit", "Audit", (Permission.AUDIT_READ,)),
    ("/console/suppression", "Suppression", (Permission.SUPPRESSION_WRITE, Permission.SUPPRESSION_REMOVE)),
    ("/console/campaigns", "Campaigns", (Permission.CAMPAIGNS,)),
    ("/console/scripts", "Scripts", (Permission.SCRIPTS_SUBMIT, Permission.SCRIPTS_APPROVE)),
]


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, fetches get 401."""


class Forbidden(Exception):
    """Signed in, but the roles lack the permission."""

    def __init__(self, user: User, wanted: tuple[Permission, ...]) -> None:
        self.user, self.wanted = user, wanted
        super().__init__(f"{user.name} lacks {' or '.join(p.value for p in wanted)}")


class BadCsrf(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class Console:
    """What the console's routes share: the runtime, its store's console side, the cookie signer."""

    runtime: Any
    store: ConsoleStore
    sessions: Sessions


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


async def session_of(request: Request) -> tuple[Session, User]:
    """The request's session and user; SignInRequired when there is none (or the account is disabled)."""
    c = console(request)
    session = c.sessions.decode(request.cookies.get(COOKIE), time.time())
    if session is None:
        raise SignInRequired()
    user = await asyncio.to_thread(current, c.store, session.user)
    if user is None:
        raise SignInRequired()
    request.state.console_session, request.state.console_user = session, user
    return session, user


async def need(request: Request, *wanted: Permission) -> User:
    """The signed-in user holding one of the permissions (none given: any signed-in user)."""
    _, user = await session_of(request)
    if wanted and not any(user.may(p) for p in wanted):
        raise Forbidden(user, wanted)
    return user


async def form(request: Request) -> dict[str, str]:
    """The POSTed form (urlencoded), after checking its CSRF token against the session's."""
    session = getattr(request.state, "console_session", None)
    if session is None:
        session, _ = await session_of(request)
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    flat = {k: v[0] for k, v in fields.items()}
    if not csrf_ok(session.csrf, flat.get("csrf") or request.headers.get("x-csrf-token")):
        raise BadCsrf()
    return flat


def check_header_csrf(request: Request) -> None:
    """For JSON fetches: the X-CSRF-Token header must carry the session's token."""
    session: Session = request.state.console_session
    if not csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
        raise BadCsrf()


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with the user, their navigation and the CSRF token."""
    user: User | None = getattr(request.state, "console_user", None)
    session: Session | None = getattr(request.state, "console_session", None)
    nav = [(p, label) for p, label, perms in NAV if user and any(user.may(x) for x in perms)]
    note = context.pop("note", "") or request.query_params.get("note", "")
    response = templates.TemplateResponse(request, template, {
        "user": user, "nav": nav, "csrf": session.csrf if session else "", "P": Permission, "note": note,
        **context,
    }, status_code=status)
    return response


def back(path: str, note: str = "") -> RedirectResponse:
    """303 to a console page after a POST, with a one-line note shown there."""
    from urllib.parse import quote

    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}note={quote(note)}" if note else path, 303)


def add_security_headers(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response
