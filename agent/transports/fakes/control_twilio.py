"""A fake Twilio REST API: `Calls.json` places a scripted call, status callbacks, media over FakeTwilio.

`POST /2010-04-01/Accounts/{AC}/Calls.json` (HTTP Basic with the account SID and auth
token) reads `To`, `From`, the inline `Twiml` (its `<Connect><Stream url>` and
`<Parameter>`s), `StatusCallback`, `StatusCallbackEvent` and `MachineDetection`, answers
`201 {"sid": "CA..."}`, then plays the number's `Behaviour`: status callbacks signed with
X-Twilio-Signature, and for an answered call a FakeTwilio media stream to the Stream URL
with the Parameters as `customParameters`. `POST .../Calls/{sid}.json Status=completed`
hangs a call up.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agent.server.auth import twilio_signature
from agent.transports.fakes.control_base import Behaviour, PlacedCall, Script, run_media
from agent.transports.fakes.twilio import FakeTwilio

# behaviour -> (CallStatus, SipResponseCode) as Twilio reports a call that never connected
ENDS = {"busy": ("busy", "486"), "failed": ("failed", "503"), "no_answer": ("no-answer", "487"),
        "not_in_service": ("failed", "404")}


def parse_twiml(text: str) -> tuple[str, dict[str, str]]:
    """The Stream URL and its Parameters from `<Response><Connect><Stream>` TwiML."""
    root = ET.fromstring(text)
    stream = root.find("./Connect/Stream")
    if stream is None or not stream.get("url"):
        raise ValueError("TwiML has no <Connect><Stream url=...>")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return str(stream.get("url")), params


class FakeTwilioApi:
    """The fake REST side; serve `app` on loopback and point TwilioControl's api_base at it."""

    def __init__(self, script: Script, account_sid: str = "AC" + "1" * 32,
                 auth_token: str = "t" * 32) -> None:
        self.script, self.account_sid, self.auth_token = script, account_sid, auth_token
        self.calls: dict[str, PlacedCall] = {}
        self.errors: list[str] = []
        self._hangups: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = FastAPI()
        self.app.post("/2010-04-01/Accounts/{account}/Calls.json")(self._create)
        self.app.post("/2010-04-01/Accounts/{account}/Calls/{sid}.json")(self._update)

    def _authorised(self, request: Request, account: str) -> bool:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account == self.account_sid and auth == expected

    async def _create(self, account: str, request: Request) -> Any:
        if not self._authorised(request, account):
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        try:
            url, params = parse_twiml(fields.get("Twiml", ""))
        except (ValueError, ET.ParseError) as exc:
            self.errors.append(str(exc))
            return JSONResponse({"code": 21205, "message": str(exc)}, status_code=400)
        if not fields.get("To") or not fields.get("From"):
            return JSONResponse({"code": 21201, "message": "To and From are required"}, status_code=400)
        sid = "CA" + uuid.uuid4().hex
        call = PlacedCall(sid, fields["To"], fields["From"], params)
        self.calls[sid] = call
        self._hangups[sid] = asyncio.Event()
        events = [str(v) for k, v in form.multi_items() if k == "StatusCallbackEvent"]
        task = asyncio.create_task(self._play(call, url, fields, events, self.script(fields["To"])))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return JSONResponse({"sid": sid, "status": "queued", "to": call.to, "from": call.caller_id},
                            status_code=201)

    async def _update(self, account: str, sid: str, request: Request) -> Any:
        if not self._authorised(request, account) or sid not in self.calls:
            return JSONResponse({"code": 20404, "message": "not found"}, status_code=404)
        form = await request.form()
        if form.get("Status") == "completed":
            self.calls[sid].events.append("hangup")
            self._hangups[sid].set()
        return JSONResponse({"sid": sid, "status": "completed"})

    async def _callback(self, fields: dict[str, str], call: PlacedCall, status: str, **extra: str) -> None:
        url = fields.get("StatusCallback")
        call.events.append(status)
        if not url:
            return
        body = {"CallSid": call.ref, "AccountSid": self.account_sid, "To": call.to, "From": call.caller_id,
                "CallStatus": status, "Direction": "outbound-api", **extra}
        headers = {"X-Twilio-Signature": twilio_signature(url, body, self.auth_token)}
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                await http.post(url, data=body, headers=headers)
            except httpx.HTTPError as exc:
                self.errors.append(f"status callback failed: {exc}")

    async def _play(self, call: PlacedCall, url: str, fields: dict[str, str], events: list[str],
                    b: Behaviour) -> None:
        await self._callback(fields, call, "initiated")
        await self._callback(fields, call, "ringing")
        await asyncio.sleep(b.ring_s)
        if b.kind in ("busy", "failed", "no_answer", "not_in_service"):
            status, sip = ENDS[b.kind]
            await self._callback(fields, call, status, SipResponseCode=sip)
            return
        amd = fields.get("MachineDetection") in ("Enable", "DetectMessageEnd")
        answered_by = ("machine_start" if b.kind == "voicemail" else "human") if amd else None
        extra = {"AnsweredBy": answered_by} if answered_by else {}
        await self._callback(fields, call, "in-progress", **extra)
        gw = FakeTwilio(url, extra=call.params)
        call.gateway = gw
        await run_media(gw, self._hangups[call.ref], b.customer, call)
        await self._callback(fields, call, "completed", CallDuration=str(int(gw.now())), **extra)
