"""A fake Asterisk ARI: `POST /ari/channels` originates a scripted call, events on `/ari/events`.

Plays what Asterisk does for an originate into a context that dials `WebSocket/...`:
ChannelCreated, ChannelStateChange Ringing, then per the number's `Behaviour` Up (and,
for voicemail, `ChannelVarset AMDSTATUS=MACHINE` as the dialplan's AMD() would set it) and
a FakeAsterisk media connection to `media_url` (the websocket_client.conf `uri`) carrying
the originate's variables, or ChannelDestroyed with the Q.850 cause (17 busy, 19 no
answer, 34 failed, 1 unallocated). `DELETE /ari/channels/{id}` hangs up.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from agent.transports.fakes.asterisk import FakeAsterisk
from agent.transports.fakes.control_base import Behaviour, PlacedCall, Script, run_media

CAUSES = {"busy": (17, "User busy"), "no_answer": (19, "No answer"), "failed": (34, "Circuit congestion"),
          "not_in_service": (1, "Unallocated number")}


class FakeAri:
    """The fake ARI HTTP + event WebSocket; serve `app` on loopback and point AriControl at it."""

    def __init__(self, script: Script, media_url: str, user: str = "voice-agent",
                 password: str = "ari-secret", media_format: str = "ulaw") -> None:
        self.script, self.media_url, self.user, self.password = script, media_url, user, password
        self.format = media_format
        self.calls: dict[str, PlacedCall] = {}
        self.errors: list[str] = []
        self._sockets: list[WebSocket] = []
        self._hangups: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = FastAPI()
        self.app.post("/ari/channels")(self._originate)
        self.app.delete("/ari/channels/{channel_id}")(self._hangup)
        self.app.add_api_websocket_route("/ari/events", self._events)

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("authorization", "") == expected

    async def _events(self, ws: WebSocket) -> None:
        if ws.query_params.get("api_key") != f"{self.user}:{self.password}":
            await ws.close(code=1008)
            return
        await ws.accept()
        self._sockets.append(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self._sockets.remove(ws)

    async def _emit(self, call: PlacedCall, kind: str, state: str, **extra: Any) -> None:
        call.events.append(kind if kind != "ChannelStateChange" else state)
        event = {"type": kind, "application": "voice-agent",
                 "channel": {"id": call.ref, "state": state, "caller": {"number": call.caller_id},
                             "connected": {"number": call.to}}, **extra}
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps(event))

    async def _originate(self, request: Request) -> Any:
        if not self._authorised(request):
            return JSONResponse({"message": "Authentication required"}, status_code=401)
        q = request.query_params
        endpoint, channel_id = q.get("endpoint", ""), q.get("channelId", "")
        if not endpoint or not (q.get("app") or (q.get("context") and q.get("extension"))):
            need = "endpoint and app or context/extension are required"
            return JSONResponse({"message": need}, status_code=400)
        body = await request.json() if await request.body() else {}
        variables = {str(k): str(v) for k, v in (body.get("variables") or {}).items()}
        number = endpoint.split("/", 1)[-1].split("@", 1)[0]
        call = PlacedCall(channel_id, number, q.get("callerId", ""), variables)
        self.calls[channel_id] = call
        self._hangups[channel_id] = asyncio.Event()
        task = asyncio.create_task(self._play(call, self.script(number)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return JSONResponse({"id": channel_id, "state": "Down", "name": f"PJSIP/{number}"})

    async def _hangup(self, channel_id: str, request: Request) -> Any:
        if not self._authorised(request) or channel_id not in self.calls:
            return JSONResponse({"message": "Channel not found"}, status_code=404)
        self.calls[channel_id].events.append("hangup")
        self._hangups[channel_id].set()
        return Response(status_code=204)

    async def _play(self, call: PlacedCall, b: Behaviour) -> None:
        await asyncio.sleep(0.05)
        await self._emit(call, "ChannelCreated", "Down")
        await self._emit(call, "ChannelStateChange", "Ringing")
        await asyncio.sleep(b.ring_s)
        if b.kind in CAUSES:
            cause, text = CAUSES[b.kind]
            await self._emit(call, "ChannelDestroyed", "Down", cause=cause, cause_txt=text)
            return
        await self._emit(call, "ChannelStateChange", "Up")
        if b.kind == "voicemail":
            await self._emit(call, "ChannelVarset", "Up", variable="AMDSTATUS", value="MACHINE")
        gw = FakeAsterisk(self.media_url, format=self.format, extra=call.params)
        call.gateway = gw
        await run_media(gw, self._hangups[call.ref], b.customer, call)
        await self._emit(call, "ChannelDestroyed", "Up", cause=16, cause_txt="Normal Clearing")
