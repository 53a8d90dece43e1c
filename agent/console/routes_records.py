"""Call records (search; a call's redacted transcript, timings, script hash, audit events); the audit."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from agent.console.web import console, need, page
from agent.server.roles import Permission as P
from agent.store import NotFound
from agent.store.browse import CallFilter

router = APIRouter()


def _day(text: str | None) -> datetime | None:
    """A yyyy-mm-dd form date as UTC midnight, or None."""
    try:
        return datetime.strptime(text or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@router.get("/calls")
async def calls(request: Request, since: str = "", until: str = "", outcome: str = "", campaign: str = "",
                phone: str = "") -> Response:
    await need(request, P.AUDIT_READ, P.CALLS)
    end = _day(until)
    f = CallFilter(_day(since), end + timedelta(days=1) if end else None, outcome.strip(), campaign.strip(),
                   phone.strip())
    c = console(request)
    rows = await asyncio.to_thread(c.store.calls, f)
    outcomes = await asyncio.to_thread(c.store.outcomes)
    return page(request, "calls.html", rows=rows, outcomes=outcomes,
                q={"since": since, "until": until, "outcome": outcome, "campaign": campaign, "phone": phone})


def _data(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {"raw": raw}
    return data if isinstance(data, dict) else {"value": data}


@router.get("/calls/{call_id}")
async def call(request: Request, call_id: str) -> Response:
    user = await need(request, P.AUDIT_READ, P.CALLS)
    c = console(request)
    try:
        record = await asyncio.to_thread(c.runtime.store.get_call, call_id, decrypt=user.may(P.AUDIT_READ))
    except NotFound:
        return page(request, "error.html", 404, title="No such call", message=f"There is no call {call_id}.")
    events = await asyncio.to_thread(c.store.call_events, call_id)
    shown = [(e, _data(e.data)) for e in events]
    started = next((d for e, d in shown if e.kind == "call_started"), {})
    return page(request, "call.html", call=record, events=shown, started=started,
                timings=json.dumps(record.timings, indent=1), decrypted=user.may(P.AUDIT_READ))


@router.get("/audit")
async def audit(request: Request, before: int | None = None, verify: int = 0, kind: str = "") -> Response:
    await need(request, P.AUDIT_READ)
    c = console(request)
    events = await asyncio.to_thread(c.store.audit_page, before, 100 if not kind else 100000)
    if kind:
        events = [e for e in events if e.kind == kind][:100]
    report = await asyncio.to_thread(c.runtime.store.verify_audit) if verify else None
    older = events[-1].seq if events and events[-1].seq > 1 and not kind else None
    return page(request, "audit.html", events=[(e, _data(e.data)) for e in events], report=report,
                older=older, kind=kind)
