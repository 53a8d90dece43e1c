"""Live calls (state and transcript as they happen, over server-sent events; end a call) and campaigns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from agent.console.web import back, console, form, need, page
from agent.server.roles import Permission as P
from agent.store import StoreError

router = APIRouter()
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle stream


@router.get("/live")
async def live(request: Request) -> Response:
    await need(request, P.CALLS)
    return page(request, "live.html", calls=console(request).runtime.live.snapshot())


def _sse(message: dict[str, Any]) -> str:
    return f"data: {json.dumps(message, ensure_ascii=False)}\n\n"


@router.get("/live/events")
async def events(request: Request) -> Response:
    """Server-sent events: first a snapshot of every active call, then each change."""
    await need(request, P.CALLS)
    board = console(request).runtime.live

    async def stream() -> AsyncIterator[str]:
        queue = board.subscribe()
        try:
            yield _sse({"type": "snapshot", "calls": board.snapshot()})
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if message.get("type") == "resync":
                    message = {"type": "snapshot", "calls": board.snapshot()}
                yield _sse(message)
        finally:
            board.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/live/{call_id}/end")
async def end(request: Request, call_id: str) -> Response:
    user = await need(request, P.CALLS)
    await form(request)
    c = console(request)
    if not c.runtime.live.end(call_id):
        return back("/console/live", f"call {call_id} is not active on this server")
    await asyncio.to_thread(c.runtime.store.record_event, call_id, "call_ended_by_operator",
                            {"by": user.name}, datetime.now(UTC))
    return back("/console/live", f"call {call_id} is being ended")


@router.get("/campaigns")
async def campaigns(request: Request) -> Response:
    await need(request, P.CAMPAIGNS)
    from agent.server.campaigns_api import campaign_store

    cs = campaign_store(request.app)
    try:
        listed = await asyncio.to_thread(cs.all)
        reports = [await asyncio.to_thread(cs.report, item["campaign_id"]) for item in listed[:50]]
    except StoreError as exc:
        return page(request, "error.html", 503, title="Store unavailable", message=str(exc))
    return page(request, "campaigns.html", reports=reports)
