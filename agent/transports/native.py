"""The native protocol: JSON text frames for control, binary frames of PCM16 LE mono audio.

Client -> server: first a `start` text frame, then binary audio at the announced rate
(20 ms frames recommended), plus `dtmf`, `mark` (echo when played), `hangup`, `ping`.
Server -> client: `started`, binary audio (same rate), `mark`, `clear`, `hangup`, and
call-progress events (`agent`, `transcript`, `turn`, `state`). See README "Native protocol".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from agent.audio.codecs import l16le_decode, l16le_encode
from agent.audio.resample import StreamResampler
from agent.transports.base import (
    INTERNAL_RATE,
    AudioIn,
    CallStart,
    DtmfIn,
    Ignored,
    InboundEvent,
    MarkEcho,
    PeerHangup,
    ProtocolError,
    WireMessage,
)
from agent.transports.common import (
    CLOSE_POLICY,
    as_rate,
    check_binary,
    check_digit,
    clip,
    dumps,
    opt_str,
    parse_object,
)

SUPPORTED_RATES = (8000, 16000, 24000, 48000)
GRANTED_KEYS = ("script", "locale", "use_case", "slots")  # decided by POST /v1/calls, never by `start`


class NativeAdapter:
    """Adapter for the runtime's own protocol, used by the demo, `talk` and the benchmarks."""

    protocol = "native"
    subprotocols: tuple[str, ...] = ()
    buffers_audio = True

    def __init__(
        self, headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None
    ) -> None:
        self._started = False
        self._rate = INTERNAL_RATE
        self._rs_in: StreamResampler | None = None
        self._rs_out: StreamResampler | None = None

    def on_text(self, text: str) -> list[InboundEvent]:
        msg = parse_object(text, "native")
        kind = msg.get("type")
        if not isinstance(kind, str):
            raise ProtocolError("a control message must be a JSON object with a string 'type'")
        if not self._started:
            if kind != "start":
                raise ProtocolError(f"expected a 'start' message first, got {clip(kind)}")
            return [self._start(msg)]
        if kind == "dtmf":
            return [DtmfIn(check_digit(msg.get("digit", "")))]
        if kind == "mark":
            return [MarkEcho(str(msg.get("name", "")), cleared=bool(msg.get("cleared", False)))]
        if kind == "hangup":
            return [PeerHangup(clip(msg.get("reason", "client"), 60))]
        if kind == "ping":
            return [Ignored("ping")]
        if kind == "start":
            raise ProtocolError("'start' was already received")
        raise ProtocolError(f"unknown message type {clip(kind)}")

    def _start(self, msg: Mapping[str, object]) -> CallStart:
        """`start`: the call id from POST /v1/calls, its token (or the native shared secret), the rate.

        The script, locale and slots were fixed when the gate granted the call; a start that
        tries to choose them is refused rather than silently ignored.
        """
        chosen = [key for key in GRANTED_KEYS if key in msg]
        if chosen:
            raise ProtocolError(
                f"'start' may not set {', '.join(chosen)}: the call's script, locale and slots come from "
                "POST /v1/calls; send only call_id, token (or secret) and sample_rate",
                CLOSE_POLICY,
            )
        rate = as_rate(msg.get("sample_rate", INTERNAL_RATE), SUPPORTED_RATES, "sample_rate")
        self._rate = rate
        if rate != INTERNAL_RATE:
            self._rs_in = StreamResampler(rate, INTERNAL_RATE)
            self._rs_out = StreamResampler(INTERNAL_RATE, rate)
        self._started = True
        return CallStart(
            protocol=self.protocol,
            call_id=opt_str(msg.get("call_id")),
            token=opt_str(msg.get("token")),
            secret=opt_str(msg.get("secret")),
            wire_rate=rate,
        )

    def on_binary(self, data: bytes) -> list[InboundEvent]:
        if not self._started:
            raise ProtocolError("audio before 'start'")
        check_binary(data, "native", align=2)
        pcm = l16le_decode(data)
        if self._rs_in is not None:
            pcm = self._rs_in.process(pcm)
        return [AudioIn(pcm)]

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]:
        pcm = self._rs_out.process(pcm16k) if self._rs_out is not None else pcm16k
        return [l16le_encode(pcm)] if len(pcm) else []

    def clear(self) -> list[WireMessage]:
        return [dumps({"type": "clear"})]

    def mark(self, name: str) -> list[WireMessage]:
        return [dumps({"type": "mark", "name": name})]

    def hangup(self, reason: str) -> list[WireMessage]:
        return [dumps({"type": "hangup", "reason": reason})]

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        return [dumps(event)]

    def accepted(self, call_id: str) -> list[WireMessage]:
        """The server's answer to `start`, once the call is admitted."""
        return [dumps({"type": "started", "call_id": call_id, "sample_rate": self._rate})]
