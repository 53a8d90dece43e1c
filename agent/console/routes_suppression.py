"""The suppression list: browse, add, check, import CSV; a removal needs a reason and a second person."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from agent.compliance.phone import InvalidPhone
from agent.console.web import back, console, form, need, page
from agent.server.roles import Permission as P
from agent.store import StoreError

router = APIRouter()
HERE = "/console/suppression"
SCOPES = ("all", "marketing", "voice")


@router.get("/suppression")
async def suppression(request: Request, phone: str = "", note: str = "", checked: str = "") -> Response:
    await need(request, P.SUPPRESSION_WRITE, P.SUPPRESSION_REMOVE)
    c = console(request)
    rows = await asyncio.to_thread(c.store.suppressions, phone.strip())
    pending = await asyncio.to_thread(c.store.pending_removals)
    return page(request, "suppression.html", rows=rows, pending=pending, phone=phone, note=note,
                checked=checked, scopes=SCOPES)


@router.post("/suppression/add")
async def add(request: Request) -> Response:
    user = await need(request, P.SUPPRESSION_WRITE)
    f = await form(request)
    scope = f.get("scope", "all")
    try:
        masked = await asyncio.to_thread(console(request).runtime.store.suppress, f.get("phone", ""),
                                         scope, f"console:{user.name}", datetime.now(UTC))
    except (InvalidPhone, ValueError, StoreError) as exc:
        return back(HERE, f"not added: {exc}")
    return back(HERE, f"suppressed {masked} ({scope})")


@router.post("/suppression/check")
async def check(request: Request) -> Response:
    await need(request, P.SUPPRESSION_WRITE, P.SUPPRESSION_REMOVE)
    f = await form(request)
    store = console(request).runtime.store
    try:
        masked = store.masked(f.get("phone", ""))
        scopes = await asyncio.to_thread(store.suppression_scopes, f.get("phone", ""))
    except (InvalidPhone, ValueError) as exc:
        return back(HERE, f"cannot check: {exc}")
    if not scopes:
        return back(HERE, f"{masked} is not suppressed")
    return back(HERE, f"{masked} is suppressed ({', '.join(sorted(scopes))})")


@router.post("/suppression/import")
async def import_csv(request: Request) -> Response:
    user = await need(request, P.SUPPRESSION_WRITE)
    f = await form(request)
    try:
        store = console(request).runtime.store
        count = await asyncio.to_thread(store.import_suppression_csv, f.get("csv", ""), datetime.now(UTC),
                                        f"csv:console:{user.name}")
    except (InvalidPhone, ValueError, StoreError) as exc:
        return back(HERE, f"nothing imported: {exc}")
    return back(HERE, f"imported {count} entries")


@router.post("/suppression/remove")
async def request_removal(request: Request) -> Response:
    user = await need(request, P.SUPPRESSION_REMOVE)
    f = await form(request)
    scope = f.get("scope") or None
    try:
        made = await asyncio.to_thread(console(request).store.request_removal, f.get("phone", ""), scope,
                                       f.get("reason", ""), user.name, datetime.now(UTC))
    except (InvalidPhone, ValueError, StoreError) as exc:
        return back(HERE, f"no request made: {exc}")
    return back(HERE, f"removal of {made.phone_masked} requested; a second person must approve it")


@router.post("/suppression/decide/{request_id}")
async def decide(request: Request, request_id: int) -> Response:
    user = await need(request, P.SUPPRESSION_REMOVE)
    f = await form(request)
    approve = f.get("decision") == "approve"
    try:
        count = await asyncio.to_thread(console(request).store.decide_removal, request_id, user.name, approve,
                                        datetime.now(UTC))
    except StoreError as exc:
        return back(HERE, f"not decided: {exc}")
    return back(HERE, f"request {request_id} approved: {count} entries removed" if approve
                else f"request {request_id} rejected")
