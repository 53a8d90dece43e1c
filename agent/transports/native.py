"""The native protocol: JSON text frames for control, binary frames of PCM16 LE mono audio.

Client -> server: first a `start` text frame, then binary audio at the announced rate
(20 ms frames recommended), plus `dtmf`, `mark` (echo when played), `hangup`, `ping`.
Server -> client: `started`, binary audio (same rate), `mark`, `clear`, `hangup`, and
call-progress events (`agent`, `transcript`, `turn`, `state`). See README "Native protocol".
"""

from __future__ import annotations

import json
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

SUPPORTED_RATES = (8000, 16000, 24000, 48000)
DTMF_KEYS = set("0123456789*#ABCD")


def _dumps(obj: Mapping[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


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
        try:
            msg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"text frame is not JSON: {exc.msg}") from exc
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ProtocolError("a control message must be a JSON object with a string 'type'")
        kind = msg["type"]
        if not self._started:
            if kind != "start":
                raise ProtocolError(f"expected a 'start' message first, got '{kind}'")
            return [self._start(msg)]
        if kind == "dtmf":
            digit = str(msg.get("digit", ""))
            if digit not in DTMF_KEYS:
                raise ProtocolError(f"dtmf digit must be one of 0-9 * # A-D, got {digit!r}")
            return [DtmfIn(digit)]
        if kind == "mark":
            return [MarkEcho(str(msg.get("name", "")), cleared=bool(msg.get("cleared", False)))]
        if kind == "hangup":
            return [PeerHangup(str(msg.get("reason", "client")))]
        if kind == "ping":
            return [Ignored("ping")]
        if kind == "start":
            raise ProtocolError("'start' was already received")
        raise ProtocolError(f"unknown message type '{kind}'")

    def _start(self, msg: Mapping[str, object]) -> CallStart:
        rate = msg.get("sample_rate", INTERNAL_RATE)
        if rate not in SUPPORTED_RATES:
            raise ProtocolError(f"sample_rate must be one of {SUPPORTED_RATES}, got {rate!r}")
        assert isinstance(rate, int)
        self._rate = rate
        if rate != INTERNAL_RATE:
            self._rs_in = StreamResampler(rate, INTERNAL_RATE)
            self._rs_out = StreamResampler(INTERNAL_RATE, rate)
        self._started = True
        params: dict[str, str] = {}
        for key in ("script", "locale", "use_case"):
            if isinstance(msg.get(key), str):
                params[key] = str(msg[key])
        if isinstance(msg.get("slots"), dict):
            params["slots"] = _dumps(msg["slots"])  # type: ignore[arg-type]
        return CallStart(
            protocol=self.protocol,
            call_id=_opt_str(msg.get("call_id")),
            token=_opt_str(msg.get("token")),
            secret=_opt_str(msg.get("secret")),
            params=params,
            wire_rate=rate,
        )

    def on_binary(self, data: bytes) -> list[InboundEvent]:
        if not self._started:
            raise ProtocolError("audio before 'start'")
        if len(data) % 2:
            raise ProtocolError("PCM16 audio frames must have an even number of bytes")
        pcm = l16le_decode(data)
        if self._rs_in is not None:
            pcm = self._rs_in.process(pcm)
        return [AudioIn(pcm)]

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]:
        pcm = self._rs_out.process(pcm16k) if self._rs_out is not None else pcm16k
        return [l16le_encode(pcm)] if len(pcm) else []

    def clear(self) -> list[WireMessage]:
        return [_dumps({"type": "clear"})]

    def mark(self, name: str) -> list[WireMessage]:
        return [_dumps({"type": "mark", "name": name})]

    def hangup(self, reason: str) -> list[WireMessage]:
        return [_dumps({"type": "hangup", "reason": reason})]

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        return [_dumps(event)]

    def accepted(self, call_id: str) -> list[WireMessage]:
        """The server's answer to `start`, once the call is admitted."""
        return [_dumps({"type": "started", "call_id": call_id, "sample_rate": self._rate})]


def _opt_str(value: object) -> str | None:
    return str(value) if isinstance(value, (str, int)) and str(value) else None
