"""jambonz: REST create-call, a call hook that answers with `listen`, and status callbacks.

`POST /v1/Accounts/{account_sid}/Calls` (Bearer API key) with `from`, `to` {type: phone,
number}, `timeout`, `call_hook` (our hook URL) and `call_status_hook` (our status URL), both
signed per attempt. When the callee answers, jambonz asks the call hook what to run; the
answer is a `listen` verb streaming both ways to /ws/jambonz with the call id and token in
its `metadata`, then `hangup` (so the call ends when our side disconnects). Status callbacks
carry `call_status` (trying, ringing, early-media, in-progress, completed, failed, busy,
no-answer) and `sip_status`; a call that never connected ends with its SIP status mapped by
SIP_FINAL, else with what its status says. With machine detection on, the create-call asks
for jambonz's `amd`, whose events (`amd_machine_detected`, ...) come to the status URL too.
`PUT .../Calls/{sid}` `{"call_status": "completed"}` hangs up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from agent.call.contracts import SCREEN_PARAM
from agent.campaign.model import Result
from agent.dialer.base import HTTP_LIMITS, SIP_FINAL, OriginateFailed, Origination, Progress

STATUS = {"busy": Result.busy, "no-answer": Result.no_answer, "failed": Result.failed}
RATES = (8000, 16000, 24000, 32000, 48000, 64000)


def _sip(value: str) -> int | None:
    try:
        return int(float(value))
    except ValueError:
        return None


def progress(attempt_id: int, form: Mapping[str, str]) -> Progress | None:
    """A call_status_hook's fields as progress; None for what the dialer does not need."""
    status = form.get("call_status", "")
    amd = form.get("type", "")
    if amd.startswith("amd_"):  # an `amd` actionHook event (the same signed status URL)
        machine = amd.startswith(("amd_machine", "amd_tone"))
        return Progress(attempt_id, "answered", machine=machine, detail=amd) if machine else None
    if status in ("trying", "ringing", "early-media"):
        return Progress(attempt_id, "ringing", detail=status)
    if status == "in-progress":
        return Progress(attempt_id, "answered", detail=status)
    if status == "completed":  # an answered call ended: the session's outcome decides
        return Progress(attempt_id, "ended", None, detail=status)
    if status in STATUS:
        code = _sip(form.get("sip_status", ""))
        result = SIP_FINAL.get(code, STATUS[status]) if code is not None else STATUS[status]
        return Progress(attempt_id, "ended", result, detail=f"{status} {code or ''}".strip())
    return None


def listen(media_url: str, call_id: str, token: str, sample_rate: int) -> list[dict[str, Any]]:
    """The application for an answered call: stream both ways to our WebSocket, then hang up."""
    return [
        {
            "verb": "listen", "url": media_url, "mixType": "mono", "sampleRate": sample_rate,
            "passDtmf": True,
            # SCREEN_PARAM: a campaign call, so the runtime screens who answered before speaking
            "metadata": {"call_id": call_id, "token": token, "out_sample_rate": sample_rate,
                         SCREEN_PARAM: "1"},
            "bidirectionalAudio": {"enabled": True, "streaming": True, "sampleRate": sample_rate},
        },
        {"verb": "hangup"},
    ]


class JambonzControl:
    """Places calls through jambonz's REST API; the hook and status routes feed it (signed URLs)."""

    name = "jambonz"

    def __init__(self, api_base: str, account_sid: str, api_key: str, media_url: str, *,
                 sample_rate: int = 8000, machine_detection: bool = False) -> None:
        if not api_base or not account_sid or not api_key:
            raise ValueError("campaigns.jambonz.api_base, account_sid and api_key must be set to dial "
                             "through jambonz")
        if sample_rate not in RATES:
            raise ValueError(f"campaigns.jambonz.sample_rate must be one of {RATES}")
        self._sid = account_sid
        self._http = httpx.AsyncClient(base_url=api_base.rstrip("/"), timeout=10, limits=HTTP_LIMITS,
                                       headers={"Authorization": f"Bearer {api_key}"})
        self._media, self._rate, self._amd = media_url, sample_rate, machine_detection
        self._calls: dict[int, Origination] = {}  # attempt id -> its origination, until it ends
        self.events: asyncio.Queue[Progress] = asyncio.Queue()

    async def originate(self, o: Origination) -> str:
        if not o.hook_url or not o.status_url:
            raise OriginateFailed("a jambonz call needs the node's hook and status URLs")
        body: dict[str, Any] = {
            "from": o.caller_id, "to": {"type": "phone", "number": o.to}, "timeout": o.ring_timeout_s,
            "call_hook": {"url": o.hook_url, "method": "POST"},
            "call_status_hook": {"url": o.status_url, "method": "POST"},
            "tag": {"attempt_id": o.attempt_id},
        }
        if self._amd:
            body["amd"] = {"actionHook": {"url": o.status_url, "method": "POST"}}
        self._calls[o.attempt_id] = o  # the hook may come before the reply
        try:
            reply = await self._http.post(f"/v1/Accounts/{self._sid}/Calls", json=body)
        except httpx.HTTPError as exc:
            self._calls.pop(o.attempt_id, None)
            raise OriginateFailed(f"jambonz unreachable: {type(exc).__name__} {exc}".rstrip()) from exc
        if reply.status_code >= 300:
            self._calls.pop(o.attempt_id, None)
            raise OriginateFailed(f"jambonz refused the call ({reply.status_code}): {reply.text[:200]}")
        try:
            return str(reply.json()["sid"])
        except (ValueError, KeyError, TypeError) as exc:
            self._calls.pop(o.attempt_id, None)
            raise OriginateFailed(f"jambonz answered without a call sid: {reply.text[:200]}") from exc

    def application(self, attempt_id: int) -> list[dict[str, Any]] | None:
        """The call hook's answer for one attempt (None: not a call in flight here)."""
        o = self._calls.get(attempt_id)
        return None if o is None else listen(self._media, o.call_id, o.token, self._rate)

    def feed(self, attempt_id: int, form: Mapping[str, str]) -> None:
        """A status callback for one of our attempts (ignored once it has ended: a late or repeated one)."""
        event = progress(attempt_id, form)
        if event is None or attempt_id not in self._calls:
            return
        if event.kind == "ended":
            self._calls.pop(attempt_id, None)
        self.events.put_nowait(event)

    async def hangup(self, ref: str) -> None:
        path = f"/v1/Accounts/{self._sid}/Calls/{ref}"
        reply = await self._http.put(path, json={"call_status": "completed"})
        if reply.status_code >= 300:
            raise OriginateFailed(f"jambonz would not hang up {ref} ({reply.status_code})")

    async def close(self) -> None:
        await self._http.aclose()
