"""Gateway wire protocols, one adapter module each; `ADAPTERS` maps a WebSocket path name to one."""

from __future__ import annotations

from agent.transports.asterisk import AsteriskAdapter
from agent.transports.freeswitch import FreeswitchAdapter
from agent.transports.jambonz import JambonzAdapter
from agent.transports.native import NativeAdapter
from agent.transports.twilio import TwilioAdapter

ADAPTERS: dict[str, type] = {
    "native": NativeAdapter,
    "twilio": TwilioAdapter,
    "jambonz": JambonzAdapter,
    "freeswitch": FreeswitchAdapter,
    "asterisk": AsteriskAdapter,
}
