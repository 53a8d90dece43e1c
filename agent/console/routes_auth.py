"""Sign-in, sign-out and the console's home page."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from agent.console.identity import sign_in
from agent.console.sessions import COOKIE, LOGIN_COOKIE, PATH, csrf_ok, set_cookie
from agent.console.web import console, form, need, page

router = APIRouter()
MAX_FAILURES, LOCKOUT_S = 5, 300  # per account name, in this process
_failures: dict[str, list[float]] = {}


def _safe_next(target: str | None) -> str:
    """Only a console path may follow sign-in (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


def _locked(name: str, now: float) -> bool:
    recent = [t for t in _failures.get(name, []) if now - t < LOCKOUT_S]
    _failures[name] = recent
    return len(recent) >= MAX_FAILURES


@router.get("/login")
async def login_form(request: Request, next: str | None = None, error: str = "") -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", login_csrf=token, next=_safe_next(next), error=error)
    set_cookie(response, request, LOGIN_COOKIE, token, 1800)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    target = _safe_next(fields.get("next"))
    cookie = request.cookies.get(LOGIN_COOKIE) or ""

    def again(error: str) -> RedirectResponse:
        return RedirectResponse(f"{PATH}/login?{urlencode({'error': error, 'next': target})}", 303)

    if not cookie or not csrf_ok(cookie, fields.get("csrf")):
        return again("the form expired; try again")
    name, now = fields.get("name", "").strip().lower(), time.time()
    if _locked(name, now):
        return again("too many failed attempts; wait 5 minutes")
    c = console(request)
    user = await asyncio.to_thread(sign_in, c.store, name, fields.get("password", ""))
    if user is None:
        _failures.setdefault(name, []).append(now)
        return again("wrong name or password")
    _failures.pop(name, None)
    await asyncio.to_thread(c.runtime.store.record_event, None, "console_signed_in",
                            {"name": user.name, "roles": list(user.roles)}, datetime.now(UTC))
    response = RedirectResponse(target, 303)
    c.sessions.start(response, request, user.name, now)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form(request)
    response = RedirectResponse(f"{PATH}/login", 303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    user = await need(request)
    return page(request, "home.html", roles=", ".join(user.roles))
