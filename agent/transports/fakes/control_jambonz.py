"""A fake jambonz REST API: create-call places a scripted call, webhooks, media over FakeJambonz.

`POST /v1/Accounts/{sid}/Calls` (Bearer API key) reads `from`, `to` {type: phone, number},
`timeout`, `call_hook`, `call_status_hook` and `amd`, answers `201 {"sid": ...}`, then plays
the number's `Behaviour`: JSON status callbacks (trying, ringing, then in-progress and
completed, or busy / no-answer / failed with `sip_status`); for an answered call it POSTs
the call hook, checks the verbs it gets back (a `listen` streaming both ways, then
`hangup`), and connects a FakeJambonz to the listen URL with its metadata; with `amd` asked
for, an `amd_human_detected` or `amd_machine_detected` event goes to its actionHook. The
call ends when the customer hangs up, the runtime closes the socket (the `hangup` verb
runs), or `PUT .../Calls/{sid}` `{"call_status": "completed"}` hangs it up. Unkind on
request: `out_of_order` sends `in-progress` before `ringing` and the final status twice, and
`hook_first` asks the call hook before the create-call reply has been read.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from agent.transports.fakes.audio_fork import FakeJambonz
from agent.transports.fakes.control_base import Behaviour, PlacedCall, Script, run_media

# behaviour -> (call_status, sip_status) as jambonz reports a call that never connected
ENDS = {"busy": ("busy", 486), "no_answer": ("no-answer", 487), "failed": ("failed", 503),
        "not_in_service": ("failed", 404)}


def _url(hook: Any) -> str:
    """A webhook given as a string or as {url, method, ...}."""
    if isinstance(hook, str):
        return hook
    if isinstance(hook, dict) and isinstance(hook.get("url"), str):
        return str(hook["url"])
    return ""


def check_listen(verbs: Any) -> tuple[dict[str, Any] | None, str]:
    """The `listen` verb of an application, or None and why it would not stream both ways."""
    if not isinstance(verbs, list) or not verbs or not isinstance(verbs[0], dict):
        return None, f"the call hook did not answer a list of verbs: {str(verbs)[:120]}"
    listen = verbs[0]
    if listen.get("verb") != "listen" or not str(listen.get("url", "")).startswith(("ws://", "wss://")):
        return None, f"the first verb is not a listen to a WebSocket URL: {listen}"
    bidir = listen.get("bidirectionalAudio") or {}
    if not (bidir.get("enabled", True) and bidir.get("streaming")):
        return None, "listen without bidirectionalAudio.streaming: jambonz would ignore our audio"
    if not isinstance(listen.get("metadata", {}), dict):
        return None, "listen metadata is not an object"
    if len(verbs) < 2 or verbs[1].get("verb") != "hangup":
        return listen, "no hangup verb after listen: the call would stay up after our side closes"
    return listen, ""


class FakeJambonzApi:
    """The fake REST side; serve `app` on loopback and point JambonzControl's api_base at it."""

    def __init__(self, script: Script, account_sid: str = "acct-" + "1" * 12, api_key: str = "k" * 32, *,
                 out_of_order: bool = False, hook_first: bool = False) -> None:
        self.script, self.account_sid, self.api_key = script, account_sid, api_key
        self.out_of_order, self.hook_first = out_of_order, hook_first
        self.calls: dict[str, PlacedCall] = {}
        self.errors: list[str] = []
        self.hook_replies: list[Any] = []
        self._hangups: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = FastAPI()
        self.app.post("/v1/Accounts/{account}/Calls")(self._create)
        self.app.put("/v1/Accounts/{account}/Calls/{sid}")(self._update)

    def _authorised(self, request: Request, account: str) -> bool:
        bearer = request.headers.get("authorization") == f"Bearer {self.api_key}"
        return account == self.account_sid and bearer

    async def _create(self, account: str, request: Request) -> Any:
        if not self._authorised(request, account):
            return JSONResponse({"msg": "unauthorized"}, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"msg": "body must be JSON"}, status_code=400)
        to = body.get("to") if isinstance(body, dict) else None
        if not isinstance(to, dict) or to.get("type") != "phone" or not to.get("number") \
                or not body.get("from"):
            return JSONResponse({"msg": "from and to {type: phone, number} are required"}, status_code=400)
        if not (_url(body.get("call_hook")) or body.get("application_sid")):
            return JSONResponse({"msg": "either call_hook or application_sid is required"}, status_code=400)
        sid = str(uuid.uuid4())
        call = PlacedCall(sid, str(to["number"]), str(body["from"]),
                          {"timeout": str(body.get("timeout", "")), "amd": "yes" if body.get("amd") else ""})
        self.calls[sid] = call
        self._hangups[sid] = asyncio.Event()
        hooked = asyncio.Event()
        task = asyncio.create_task(self._play(call, body, self.script(call.to), hooked))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.hook_first:  # the call is answered and its hook asked before the reply goes out
            waiter = asyncio.create_task(hooked.wait())
            await asyncio.wait([waiter], timeout=10)
            waiter.cancel()
        return JSONResponse({"sid": sid}, status_code=201)

    async def _update(self, account: str, sid: str, request: Request) -> Any:
        if not self._authorised(request, account) or sid not in self.calls:
            return JSONResponse({"msg": "call not found"}, status_code=404)
        body = await request.json()
        if body.get("call_status") == "completed":
            self.calls[sid].events.append("hangup")
            self._hangups[sid].set()
        return Response(status_code=204)

    async def _post(self, url: str, body: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                reply = await http.post(url, json=body)
            except httpx.HTTPError as exc:
                self.errors.append(f"webhook {url.split('?')[0]} failed: {exc}")
                return None
        if reply.status_code >= 300:
            self.errors.append(f"webhook {url.split('?')[0]} answered {reply.status_code}")
            return None
        return reply.json() if reply.content else None

    def _info(self, call: PlacedCall, status: str, sip: int, **extra: Any) -> dict[str, Any]:
        return {"call_sid": call.ref, "direction": "outbound", "from": call.caller_id, "to": call.to,
                "call_id": f"{call.ref}@fake", "sip_status": sip, "call_status": status,
                "account_sid": self.account_sid, "trace_id": uuid.uuid4().hex, **extra}

    async def _status(self, body: dict[str, Any], call: PlacedCall, status: str, sip: int,
                      **extra: Any) -> None:
        call.events.append(status)
        url = _url(body.get("call_status_hook"))
        if url:
            await self._post(url, self._info(call, status, sip, **extra))

    async def _play(self, call: PlacedCall, body: dict[str, Any], b: Behaviour,
                    hooked: asyncio.Event) -> None:
        try:
            await self._call(call, body, b, hooked)
        finally:
            hooked.set()

    async def _call(self, call: PlacedCall, body: dict[str, Any], b: Behaviour,
                    hooked: asyncio.Event) -> None:
        await asyncio.sleep(0.05)
        await self._status(body, call, "trying", 100)
        if not self.out_of_order:
            await self._status(body, call, "ringing", 180)
        await asyncio.sleep(b.ring_s)
        if b.kind in ENDS:
            status, sip = ENDS[b.kind]
            await self._status(body, call, status, sip)
            if self.out_of_order:
                await self._status(body, call, status, sip)
            return
        verbs = await self._post(_url(body.get("call_hook")), self._info(call, "in-progress", 200))
        self.hook_replies.append(verbs)
        hooked.set()
        listen, problem = check_listen(verbs)
        if problem:
            self.errors.append(problem)
        await self._status(body, call, "in-progress", 200)
        if self.out_of_order:
            await self._status(body, call, "ringing", 180)  # a late one
        if listen is None:
            await self._status(body, call, "completed", 200)
            return
        amd = body.get("amd")
        if isinstance(amd, dict) and _url(amd.get("actionHook")):
            kind = "amd_machine_detected" if b.kind == "voicemail" else "amd_human_detected"
            event = {**self._info(call, "in-progress", 200), "type": kind}
            await self._post(_url(amd.get("actionHook")), event)
        meta = {str(k): str(v) for k, v in (listen.get("metadata") or {}).items() if k != "out_sample_rate"}
        rate = int(listen.get("sampleRate", 8000))
        out_rate = int((listen.get("bidirectionalAudio") or {}).get("sampleRate", rate))
        call.params.update(meta)
        gw = FakeJambonz(str(listen["url"]), rate=rate, out_rate=out_rate, extra=meta)
        call.gateway = gw
        await run_media(gw, self._hangups[call.ref], b.customer, call)
        await self._status(body, call, "completed", 200)
        if self.out_of_order:
            await self._status(body, call, "completed", 200)
