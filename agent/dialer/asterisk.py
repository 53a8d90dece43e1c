"""Asterisk ARI: `POST /ari/channels` originates into a dialplan context that dials `WebSocket/...`.

The channel is created with id `va-<attempt>-<random>` and the variables CALL_ID and TOKEN;
once answered it runs `<context>,<extension>,1`, whose dialplan is
`Dial(WebSocket/voice_agent/c(ulaw)nf(json))` (see docs/campaigns.md), so the media comes
to /ws/asterisk with those variables in MEDIA_START. Progress comes from the ARI event
WebSocket (`/ari/events?subscribeAll=true`): `ChannelStateChange` to Up is the answer,
`AMDSTATUS=MACHINE` (dialplan AMD()) a machine, `ChannelDestroyed` with its Q.850 cause the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import websockets

from agent.call.contracts import SCREEN_PARAM
from agent.campaign.model import Result
from agent.dialer.base import HTTP_LIMITS, Q850, OriginateFailed, Origination, Progress

log = logging.getLogger(__name__)
AMD_MACHINE = ("AMDSTATUS", "MACHINE")  # set by the dialplan's AMD() on an answering machine


def attempt_of(channel_id: str) -> int | None:
    """The attempt id encoded in a channel id we created, or None for someone else's channel."""
    parts = channel_id.split("-")
    if len(parts) >= 3 and parts[0] == "va" and parts[1].isdigit():
        return int(parts[1])
    return None


class AriControl:
    """Originates through ARI and follows the channels on the ARI event socket."""

    name = "asterisk"

    def __init__(self, ari_url: str, user: str, password: str, *, app: str = "voice-agent",
                 context: str = "voice-agent-outbound", extension: str = "s",
                 endpoint: str = "PJSIP/{number}@trunk") -> None:
        if not user or not password:
            raise ValueError("campaigns.asterisk.ari_user and ari_password must be set to dial through ARI")
        self._base = ari_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self._base, auth=(user, password), timeout=10,
                                       limits=HTTP_LIMITS)
        self._key = f"{user}:{password}"
        self._app, self._context, self._ext, self._endpoint = app, context, extension, endpoint
        self.events: asyncio.Queue[Progress] = asyncio.Queue()
        self._up: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect the event socket (before the first originate, so no event is missed)."""
        ws_base = self._base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        url = f"{ws_base}/ari/events?app={quote(self._app)}&api_key={quote(self._key)}&subscribeAll=true"
        ws = await websockets.connect(url)
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: Any) -> None:
        try:
            async for message in ws:
                self._on_event(json.loads(message))
        except websockets.ConnectionClosed:
            log.warning("ARI event socket closed")
        finally:
            await ws.close()

    def _on_event(self, event: dict[str, Any]) -> None:
        channel = event.get("channel") or {}
        attempt = attempt_of(str(channel.get("id", "")))
        if attempt is None:
            return
        kind = event.get("type")
        if kind == "ChannelStateChange" and channel.get("state") == "Up" and attempt not in self._up:
            self._up.add(attempt)
            self.events.put_nowait(Progress(attempt, "answered"))
        elif kind == "ChannelStateChange" and channel.get("state") == "Ringing":
            self.events.put_nowait(Progress(attempt, "ringing"))
        elif kind == "ChannelVarset" and (event.get("variable"), event.get("value")) == AMD_MACHINE:
            self.events.put_nowait(Progress(attempt, "answered", machine=True, detail="AMD"))
        elif kind == "ChannelDestroyed":
            cause = int(event.get("cause") or 0)
            answered = attempt in self._up
            self._up.discard(attempt)
            result = None if answered else Q850.get(cause, Result.no_answer)
            detail = str(event.get("cause_txt", cause))
            self.events.put_nowait(Progress(attempt, "ended", result, detail=detail))

    async def originate(self, o: Origination) -> str:
        channel_id = f"va-{o.attempt_id}-{uuid.uuid4().hex[:12]}"
        params = {
            "endpoint": self._endpoint.format(number=o.to), "context": self._context,
            "extension": self._ext, "priority": "1", "callerId": o.caller_id,
            "timeout": str(o.ring_timeout_s), "channelId": channel_id,
        }
        body = {"variables": {"CALL_ID": o.call_id, "TOKEN": o.token, "VA_ATTEMPT": str(o.attempt_id),
                              SCREEN_PARAM.upper(): "1"}}
        try:
            reply = await self._http.post("/ari/channels", params=params, json=body)
        except httpx.HTTPError as exc:
            raise OriginateFailed(f"ARI unreachable: {type(exc).__name__} {exc}".rstrip()) from exc
        if reply.status_code >= 300:
            raise OriginateFailed(f"ARI refused the originate ({reply.status_code}): {reply.text[:200]}")
        return channel_id

    async def hangup(self, ref: str) -> None:
        await self._http.delete(f"/ari/channels/{ref}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._http.aclose()
