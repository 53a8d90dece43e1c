"""What every wire protocol turns into, and the small interface an adapter implements.

An adapter only converts: wire messages in -> `InboundEvent`s, internal commands out ->
wire messages. It never touches the session, timers or models. Audio crosses this line
as PCM16 mono at 16 kHz (`INTERNAL_RATE`) in numpy int16 arrays of any length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from agent.transports.closes import CLOSE_UNSUPPORTED

INTERNAL_RATE = 16000

WireMessage = str | bytes  # str = a WebSocket text frame, bytes = a binary frame


@dataclass(frozen=True, slots=True)
class CallStart:
    """The gateway said who this call is: ids, credentials and custom parameters."""

    protocol: str
    call_id: str | None = None  # our call id from POST /v1/calls, when the gateway passes it
    token: str | None = None  # short-lived call token from POST /v1/calls
    secret: str | None = None  # per-gateway shared secret, when that is how it authenticates
    params: Mapping[str, str] = field(default_factory=dict)  # everything else the gateway sent
    wire_rate: int = INTERNAL_RATE  # sample rate of the audio on the wire


@dataclass(frozen=True, slots=True)
class AudioIn:
    """Customer audio, already decoded and resampled to 16 kHz PCM16."""

    pcm: np.ndarray


@dataclass(frozen=True, slots=True)
class DtmfIn:
    """The customer pressed a key."""

    digit: str


@dataclass(frozen=True, slots=True)
class MarkEcho:
    """The gateway reached (or, if `cleared`, dropped) a mark we placed in the audio."""

    name: str
    cleared: bool | None = None  # None when the protocol cannot tell (Twilio)


@dataclass(frozen=True, slots=True)
class PeerHangup:
    """The gateway ended the call or the stream."""

    reason: str = "peer"


@dataclass(frozen=True, slots=True)
class FlowControl:
    """The gateway asked us to stop (`paused=True`) or resume sending audio (Asterisk XOFF/XON)."""

    paused: bool


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message understood and deliberately ignored (keep-alives, statuses).

    With `anomaly`, a message the protocol does not define here (an unknown event, an echo
    of a mark never sent): the socket runner logs those at a limited rate, never one by one.
    """

    what: str  # what it was (a short fixed phrase for anomalies, so they can be counted)
    anomaly: bool = False
    detail: str = ""  # the offending value, clipped (anomalies only)


InboundEvent = CallStart | AudioIn | DtmfIn | MarkEcho | PeerHangup | FlowControl | Ignored


class ProtocolError(ValueError):
    """The peer sent something that breaks the protocol; the connection is closed with `close_code`."""

    def __init__(self, message: str, close_code: int = CLOSE_UNSUPPORTED) -> None:
        super().__init__(message)
        self.close_code = close_code


class WireAdapter(Protocol):
    """Converts one gateway's wire format to and from the call loop's events.

    Constructed per connection as `Adapter(headers=..., query=...)` with the WebSocket
    upgrade request's headers (lower-cased names) and query parameters, so an adapter can
    read Basic auth, a subprotocol or a signature header.
    """

    protocol: str
    subprotocols: tuple[str, ...]  # WebSocket subprotocols to accept (echoed in the handshake)
    buffers_audio: bool  # True when the gateway queues our audio (so `clear` can take it back)

    def on_text(self, text: str) -> list[InboundEvent]: ...

    def on_binary(self, data: bytes) -> list[InboundEvent]: ...

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]: ...

    def clear(self) -> list[WireMessage]: ...

    def mark(self, name: str) -> list[WireMessage]: ...

    def hangup(self, reason: str) -> list[WireMessage]: ...

    def accepted(self, call_id: str) -> list[WireMessage]:
        """What to send once the call is admitted (an ack, ANSWER, ...); often nothing."""
        ...

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        """Call-progress events (transcripts, turns); only the native protocol sends them."""
        ...
