"""Fake telephony gateways that speak each wire protocol over a real WebSocket, at real time.

Used by the tests and by `voice-agent demo --transport X`:
`async with FAKES["twilio"](url, call_id=..., token=...) as gw: await gw.play(pcm16k)`.
"""

from __future__ import annotations

from agent.transports.fakes.asterisk import FakeAsterisk
from agent.transports.fakes.audio_fork import FakeFreeswitch, FakeJambonz
from agent.transports.fakes.base import FakeGateway, GatewayEvent
from agent.transports.fakes.twilio import FakeTwilio

FAKES: dict[str, type[FakeGateway]] = {
    "twilio": FakeTwilio,
    "jambonz": FakeJambonz,
    "freeswitch": FakeFreeswitch,
    "asterisk": FakeAsterisk,
}

__all__ = [
    "FAKES",
    "FakeAsterisk",
    "FakeFreeswitch",
    "FakeGateway",
    "FakeJambonz",
    "FakeTwilio",
    "GatewayEvent",
]
