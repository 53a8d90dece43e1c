"""Twilio: `POST /2010-04-01/Accounts/{AC}/Calls.json` with inline TwiML `<Connect><Stream>`.

The TwiML carries the call id and token as `<Parameter>`s (Twilio drops query strings from
the Stream URL), so the media arrives on /ws/twilio like any Twilio call. Progress comes
back as status callbacks (initiated, ringing, answered, completed) to a URL signed per
attempt; `MachineDetection=Enable` adds Twilio's `AnsweredBy` when configured. A `failed`
call's `SipResponseCode` tells a number not in service (404) from a network failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

import httpx

from agent.call.contracts import SCREEN_PARAM
from agent.campaign.model import Result
from agent.dialer.base import HTTP_LIMITS, SIP_FINAL, OriginateFailed, Origination, Progress

STATUS = {
    "busy": Result.busy, "no-answer": Result.no_answer, "failed": Result.failed, "canceled": Result.failed,
}


def twiml(stream_url: str, params: Mapping[str, str]) -> str:
    """`<Response><Connect><Stream url=...>` with one `<Parameter>` per item."""
    inner = "".join(f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in params.items())
    return f"<Response><Connect><Stream url={quoteattr(stream_url)}>{inner}</Stream></Connect></Response>"


def progress(attempt_id: int, form: Mapping[str, str]) -> Progress | None:
    """A status callback's form fields as progress; None for events the dialer does not need."""
    status = form.get("CallStatus", "")
    machine = form.get("AnsweredBy", "").startswith(("machine", "fax"))
    if status in ("ringing", "initiated", "queued"):
        return Progress(attempt_id, "ringing", detail=status)
    if status == "in-progress":
        return Progress(attempt_id, "answered", machine=machine, detail=form.get("AnsweredBy", ""))
    if status == "completed":
        return Progress(attempt_id, "ended", Result.voicemail if machine else None, machine, status)
    if status == "failed":  # the carrier's SIP answer says why: e.g. 404 for a number not in service
        code = form.get("SipResponseCode", "")
        result = SIP_FINAL.get(int(code), Result.failed) if code.isdigit() else Result.failed
        return Progress(attempt_id, "ended", result, detail=f"failed {code}".strip())
    if status in STATUS:
        return Progress(attempt_id, "ended", STATUS[status], detail=status)
    return None


class TwilioControl:
    """Places calls through Twilio's REST API; status callbacks are fed in by the server route."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, media_url: str, *,
                 api_base: str = "https://api.twilio.com", machine_detection: bool = False) -> None:
        if not account_sid or not auth_token:
            raise ValueError("campaigns.twilio.account_sid and auth_token must be set to dial through Twilio")
        self._sid = account_sid
        self._http = httpx.AsyncClient(base_url=api_base, auth=(account_sid, auth_token), timeout=10,
                                       limits=HTTP_LIMITS)
        self._media = media_url
        self._amd = machine_detection
        self.events: asyncio.Queue[Progress] = asyncio.Queue()

    async def originate(self, o: Origination) -> str:
        form: dict[str, str | list[str]] = {
            "To": o.to, "From": o.caller_id, "Timeout": str(o.ring_timeout_s),
            "Twiml": twiml(self._media, {"call_id": o.call_id, "token": o.token, SCREEN_PARAM: "1"}),
            "StatusCallback": o.status_url, "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        }
        if self._amd:
            form["MachineDetection"] = "Enable"
        try:
            reply = await self._http.post(f"/2010-04-01/Accounts/{self._sid}/Calls.json", data=form)
        except httpx.HTTPError as exc:
            raise OriginateFailed(f"Twilio unreachable: {type(exc).__name__} {exc}".rstrip()) from exc
        if reply.status_code >= 300:
            raise OriginateFailed(f"Twilio refused the call ({reply.status_code}): {reply.text[:200]}")
        return str(reply.json()["sid"])

    def feed(self, attempt_id: int, form: Mapping[str, str]) -> None:
        """A status callback arrived for one of our attempts."""
        event = progress(attempt_id, form)
        if event is not None:
            self.events.put_nowait(event)

    async def hangup(self, ref: str) -> None:
        path = f"/2010-04-01/Accounts/{self._sid}/Calls/{ref}.json"
        await self._http.post(path, data={"Status": "completed"})

    async def close(self) -> None:
        await self._http.aclose()
