"""REST for outbound campaigns (SPEC 12) and the gateways' callbacks for campaign calls.

Management routes need an X-API-Key whose role has the `campaigns` permission (operator,
admin): create, list, members (JSON or CSV),
start/pause/stop, progress (JSON) and a PNG report. Gateway routes (status callbacks,
the jambonz call hook) carry no API key: each URL is signed per attempt by the dialer
(`sig`), and an unsigned or wrongly signed request changes nothing (403).
When `campaigns.dialer` is on, this router's lifespan runs the node's dialer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from agent.campaign.model import Campaign
from agent.server.api import _run, _store
from agent.server.auth import require
from agent.server.errors import ApiError
from agent.server.roles import Permission
from agent.store.campaigns import CampaignStore


def campaign_store(app: Any) -> CampaignStore:
    """The app's campaign store (built on its main store and the `campaigns` settings once)."""
    cs: CampaignStore | None = getattr(app.state, "campaigns", None)
    if cs is None:
        settings = app.state.settings.campaigns
        cs = CampaignStore(app.state.store, settings.number_key, settings.caller_id_secret)
        app.state.campaigns = cs
    return cs


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = getattr(app.state, "settings", None)
    task: asyncio.Task[None] | None = None
    async with contextlib.AsyncExitStack() as stack:
        if settings is not None and settings.campaigns.dialer and getattr(app.state, "dialer", None) is None:
            from agent.dialer.service import build_dialer

            app.state.dialer = build_dialer(app, campaign_store(app))
            # one running dialer per node id (Conflict, and the server does not start, otherwise)
            stack.enter_context(campaign_store(app).hold_node(app.state.dialer.node_id))
            task = asyncio.create_task(app.state.dialer.serve())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


router = APIRouter(lifespan=_lifespan)
manage = APIRouter(prefix="/v1/campaigns", dependencies=[Depends(require(Permission.CAMPAIGNS))],
                   tags=["campaigns"])
gateway = APIRouter(prefix="/v1/campaigns", tags=["campaigns: gateway callbacks"])


def _cs(request: Request) -> CampaignStore:
    _store(request)  # 503 when no store is configured
    return campaign_store(request.app)


def _now() -> datetime:
    return datetime.now(UTC)


@manage.post("", status_code=201)
async def create_campaign(request: Request) -> Any:
    """Create a campaign (draft) from its spec: use case, locale, purpose, jurisdiction, caller IDs, ..."""
    try:
        spec = Campaign.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse({"detail": f"{where}: {first['msg']}"}, status_code=422)
    try:
        cid = await _run(_cs(request).create, spec, _now())
    except ApiError as exc:
        return exc.response()
    return {"campaign_id": cid, "status": "draft"}


@manage.get("")
async def list_campaigns(request: Request) -> Any:
    """Every campaign with its status."""
    try:
        return await _run(_cs(request).all)
    except ApiError as exc:
        return exc.response()


@manage.get("/{cid}")
async def get_campaign(cid: str, request: Request) -> Any:
    """A campaign's spec and status."""
    try:
        return await _run(_cs(request).get, cid)
    except ApiError as exc:
        return exc.response()


@manage.post("/{cid}/members")
async def add_members(cid: str, request: Request) -> Any:
    """Add members, all or nothing: a JSON list (or {"members": [...]}) or a CSV body (text/csv)."""
    body = await request.body()
    try:
        cs = _cs(request)
        if request.headers.get("content-type", "").startswith("text/csv"):
            count = await _run(cs.import_csv, cid, body.decode("utf-8-sig"), _now())
        else:
            import json

            data = json.loads(body or b"[]")
            members = data.get("members") if isinstance(data, dict) else data
            if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
                return JSONResponse({"detail": "send a JSON list of members or {\"members\": [...]}"}, 422)
            count = await _run(cs.add_members, cid, members, _now())
    except ApiError as exc:
        return exc.response()
    except ValueError as exc:  # malformed JSON or CSV text
        return JSONResponse({"detail": f"unreadable body: {exc}"}, status_code=400)
    return {"imported": count}


@manage.get("/{cid}/members")
async def list_members(cid: str, request: Request, limit: int = Query(100, ge=1, le=1000),
                       offset: int = Query(0, ge=0)) -> Any:
    """Members with masked numbers and where each stands."""
    try:
        return await _run(_cs(request).members, cid, limit, offset)
    except ApiError as exc:
        return exc.response()


@manage.post("/{cid}/{action}")
async def control(cid: str, action: str, request: Request) -> Any:
    """start | pause | stop."""
    if action not in ("start", "pause", "stop"):
        return JSONResponse({"detail": "action must be start, pause or stop"}, status_code=404)
    try:
        status = await _run(_cs(request).control, cid, action, _now())
    except ApiError as exc:
        return exc.response()
    return {"campaign_id": cid, "status": status}


@manage.get("/{cid}/progress")
async def progress(cid: str, request: Request) -> Any:
    """Attempts, contacts, promises, opt-outs, refusals by reason, abandoned calls, members by state."""
    try:
        return await _run(_cs(request).report, cid)
    except ApiError as exc:
        return exc.response()


@manage.get("/{cid}/report.png", response_class=Response)
async def report_png(cid: str, request: Request) -> Any:
    """The campaign report as a PNG chart."""
    from agent.campaign.report import report_png as draw

    try:
        report = await _run(_cs(request).report, cid)
    except ApiError as exc:
        return exc.response()
    return Response(await asyncio.to_thread(draw, report), media_type="image/png")


def _signed(request: Request, name: str, attempt_id: int) -> bool:
    from agent.dialer.dialer import sign

    secret = request.app.state.settings.campaigns.callback_secret
    given = request.query_params.get("sig", "")
    return bool(given) and hmac.compare_digest(given, sign(secret, name, attempt_id))


@gateway.post("/callbacks/{name}/{attempt_id}", status_code=204, response_class=Response, response_model=None)
async def status_callback(name: str, attempt_id: int, request: Request) -> Any:
    """A gateway's status callback for one campaign call (signed URL)."""
    if not _signed(request, name, attempt_id):
        return JSONResponse({"detail": "bad or missing signature"}, status_code=403)
    dialer = getattr(request.app.state, "dialer", None)
    plane = dialer.planes.get(name) if dialer is not None else None
    if plane is None or not hasattr(plane, "feed"):
        return JSONResponse({"detail": f"no {name} dialer on this node"}, status_code=404)
    if request.headers.get("content-type", "").startswith("application/json"):  # jambonz
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"detail": "a JSON status callback must be an object"}, status_code=400)
        fields = {str(k): str(v) for k, v in body.items()}
    else:
        fields = {k: str(v) for k, v in (await request.form()).items()}
    plane.feed(attempt_id, fields)
    return Response(status_code=204)


@gateway.post("/hooks/{name}/{attempt_id}")
async def call_hook(name: str, attempt_id: int, request: Request) -> Any:
    """jambonz asks what to do with an answered campaign call: a `listen` to our WebSocket."""
    if not _signed(request, name, attempt_id):
        return JSONResponse({"detail": "bad or missing signature"}, status_code=403)
    dialer = getattr(request.app.state, "dialer", None)
    plane = dialer.planes.get(name) if dialer is not None else None
    verbs = plane.application(attempt_id) if plane is not None and hasattr(plane, "application") else None
    if verbs is None:
        return JSONResponse([{"verb": "hangup"}])
    return JSONResponse(verbs)


router.include_router(manage)
router.include_router(gateway)
