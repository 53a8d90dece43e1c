"""What every gateway control plane does for the dialer: place a call, report its progress, hang up.

A control plane turns one granted attempt (`Origination`) into the gateway's own request
(Twilio REST, Asterisk ARI, FreeSWITCH ESL, jambonz REST) so that, once answered, the
gateway connects the call's media to our WebSocket path with the call id and token. Its
progress comes back as `Progress` events (from a status callback or an event stream).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import httpx

from agent.campaign.model import Result

# The control-plane HTTP clients' connection pool. An originate is not idempotent, so a request
# that fails on a reused connection is not retried; instead an idle connection is dropped well
# before the shortest common server keep-alive (5 s: uvicorn, Apache), so a request never races
# the server closing the connection it reuses (httpx's own default expiry is also 5 s).
HTTP_LIMITS = httpx.Limits(keepalive_expiry=2.0)


@dataclass(frozen=True, slots=True)
class Origination:
    """One call to place: who, from which number, and the credentials its media must present."""

    attempt_id: int
    call_id: str
    token: str
    to: str  # E.164
    caller_id: str  # E.164, one of the lender's registered numbers
    ring_timeout_s: int = 30
    status_url: str = ""  # where a callback-based gateway reports progress (signed per attempt)
    hook_url: str = ""  # where jambonz asks for the call's application (signed per attempt)


@dataclass(frozen=True, slots=True)
class Progress:
    """A gateway event about one attempt: `answered` (machine: an answering machine) or `ended`."""

    attempt_id: int
    kind: str  # ringing | answered | ended
    result: Result | None = None  # set on `ended` when the gateway alone knows (busy, no answer ...)
    machine: bool = False  # the gateway's own AMD says a machine answered
    detail: str = ""


class ControlPlane(Protocol):
    """One gateway's call-control API."""

    name: str
    events: asyncio.Queue[Progress]

    async def originate(self, o: Origination) -> str:
        """Place the call; returns the gateway's reference for it (call SID, channel id, UUID)."""
        ...

    async def hangup(self, ref: str) -> None:
        """End a call (e.g. a voicemail under a hang-up policy)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class OriginateFailed(Exception):
    """The gateway would not place the call (bad request, auth, capacity); the attempt failed."""


# ITU-T Q.850 cause codes (Asterisk ChannelDestroyed `cause`, FreeSWITCH Hangup-Cause names).
Q850: dict[int, Result] = {
    1: Result.not_in_service,  # unallocated number
    17: Result.busy,  # user busy
    18: Result.no_answer,  # no user responding
    19: Result.no_answer,  # no answer from user
    21: Result.busy,  # call rejected
    22: Result.not_in_service,  # number changed
    27: Result.failed,  # destination out of order
    28: Result.not_in_service,  # invalid number format
    34: Result.failed,  # no circuit available
    38: Result.failed,  # network out of order
    41: Result.failed,  # temporary failure
    42: Result.failed,  # switching equipment congestion
}
# SIP final responses a carrier gives a call that never connects (Twilio `SipResponseCode`, jambonz
# `sip_status`); a code not listed keeps the gateway's own status.
SIP_FINAL: dict[int, Result] = {
    404: Result.not_in_service,  # not found: unallocated number
    410: Result.not_in_service,  # gone: the number was disconnected
    484: Result.not_in_service,  # address incomplete
    604: Result.not_in_service,  # does not exist anywhere
    480: Result.no_answer,  # temporarily unavailable (switched off, out of coverage)
    486: Result.busy,  # busy here
    600: Result.busy,  # busy everywhere
}
FREESWITCH_CAUSES: dict[str, Result] = {
    "UNALLOCATED_NUMBER": Result.not_in_service,
    "USER_BUSY": Result.busy,
    "NO_USER_RESPONSE": Result.no_answer,
    "NO_ANSWER": Result.no_answer,
    "ORIGINATOR_CANCEL": Result.no_answer,
    "ALLOTTED_TIMEOUT": Result.no_answer,
    "CALL_REJECTED": Result.busy,
    "NUMBER_CHANGED": Result.not_in_service,
    "INVALID_NUMBER_FORMAT": Result.not_in_service,
    "DESTINATION_OUT_OF_ORDER": Result.failed,
    "NORMAL_TEMPORARY_FAILURE": Result.failed,
    "NO_ROUTE_DESTINATION": Result.failed,
    "SUBSCRIBER_ABSENT": Result.no_answer,  # 480: switched off, out of coverage
    "NORMAL_CIRCUIT_CONGESTION": Result.failed,
    "RECOVERY_ON_TIMER_EXPIRE": Result.failed,  # the far end never answered the INVITE at all
    "GATEWAY_DOWN": Result.failed,
}
