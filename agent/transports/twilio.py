"""Twilio Media Streams, bidirectional (`<Connect><Stream>`): JSON text frames, base64 μ-law 8 kHz.

Twilio -> us: `connected`, `start` (with `customParameters`: `call_id`, `token`, optional
`secret`), `media`, `dtmf`, `mark` (echo), `stop`. Us -> Twilio: `media`, `mark`, `clear`,
each with `streamSid`. Twilio echoes every pending mark at once after a `clear`, identically
to a played one, so this adapter keeps a ledger and reports which marks were cleared.
Hang-up has no stream message: the runner closes the socket, which ends `<Connect>` (the
call ends unless TwiML follows it); ending the call by REST is the operator's choice.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.transports.base import (
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
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    FRAME_MS,
    InboundAudio,
    MarkLedger,
    OutboundAudio,
    b64decode_strict,
    batch,
    check_digit,
    clip,
    dumps,
    log,
    opt_str,
    param_str,
    parse_object,
)

WIRE_RATE = 8000
FRAME_SAMPLES = WIRE_RATE * FRAME_MS // 1000  # 160 μ-law bytes per 20 ms
MAX_FRAMES_PER_MESSAGE = 50  # 1 s of audio per outbound `media` message at most
MAX_PAYLOAD_BYTES = 16000  # 2 s of inbound μ-law in one `media` message is already absurd
CREDENTIAL_KEYS = ("call_id", "token", "secret")


class TwilioAdapter:
    """Adapter for Twilio Media Streams (bidirectional)."""

    protocol = "twilio"
    subprotocols: tuple[str, ...] = ()
    buffers_audio = True

    def __init__(
        self, headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None
    ) -> None:
        self.stream_sid: str | None = None
        self._stopped = False
        self._last_seq = 0
        self._in = InboundAudio(WIRE_RATE, ulaw_decode)
        self._out = OutboundAudio(WIRE_RATE, FRAME_SAMPLES, ulaw_encode)
        self._marks = MarkLedger()

    # ---- inbound -------------------------------------------------------------------

    def on_text(self, text: str) -> list[InboundEvent]:
        msg = parse_object(text, "Twilio")
        event = msg.get("event")
        if not isinstance(event, str):
            raise ProtocolError("a Twilio message needs a string 'event'")
        if event == "connected":
            return [Ignored("connected")]
        if self.stream_sid is None:
            if event != "start":
                raise ProtocolError(f"expected 'connected' or 'start' first, got {clip(event)}", CLOSE_POLICY)
            return [self._start(msg)]
        self._check_stream(msg, event)
        if self._stopped:
            return [Ignored(f"{event} after stop")]
        if event == "media":
            return self._media(msg)
        if event == "mark":
            return self._mark(msg)
        if event == "dtmf":
            return [DtmfIn(check_digit(_obj(msg, "dtmf").get("digit")))]
        if event == "stop":
            self._stopped = True
            return [PeerHangup("stop")]
        if event == "start":
            raise ProtocolError("'start' was already received", CLOSE_POLICY)
        return [Ignored("unknown event", anomaly=True, detail=clip(event))]

    def on_binary(self, data: bytes) -> list[InboundEvent]:
        raise ProtocolError("Twilio Media Streams sends only JSON text frames, got a binary frame")

    def _start(self, msg: Mapping[str, object]) -> CallStart:
        """Validate `start`, remember the streamSid and hand over ids and custom parameters."""
        start = _obj(msg, "start")
        sid = opt_str(start.get("streamSid")) or opt_str(msg.get("streamSid"))
        call_sid = opt_str(start.get("callSid"))
        if sid is None or call_sid is None:
            raise ProtocolError("Twilio 'start' needs start.streamSid and start.callSid")
        fmt = start.get("mediaFormat")
        if fmt is not None:
            if not isinstance(fmt, dict):
                raise ProtocolError("start.mediaFormat must be an object")
            encoding, rate = fmt.get("encoding", "audio/x-mulaw"), fmt.get("sampleRate", WIRE_RATE)
            if encoding != "audio/x-mulaw" or rate != WIRE_RATE or fmt.get("channels", 1) != 1:
                raise ProtocolError(
                    f"unsupported Twilio media format {clip(encoding)} {clip(rate)} Hz; "
                    "expected audio/x-mulaw 8000 mono",
                    CLOSE_UNSUPPORTED,
                )
        custom = start.get("customParameters", {})
        if not isinstance(custom, dict):
            raise ProtocolError("start.customParameters must be an object")
        self._seq(msg)
        self.stream_sid = sid
        params = {str(k): param_str(v) for k, v in custom.items() if k not in CREDENTIAL_KEYS}
        params.update(streamSid=sid, callSid=call_sid)
        if opt_str(start.get("accountSid")):
            params["accountSid"] = str(start["accountSid"])
        return CallStart(
            protocol=self.protocol,
            call_id=opt_str(custom.get("call_id")),
            token=opt_str(custom.get("token")),
            secret=opt_str(custom.get("secret")),
            params=params,
            wire_rate=WIRE_RATE,
        )

    def _check_stream(self, msg: Mapping[str, object], event: str) -> None:
        """A message for another stream on this socket means a confused peer."""
        sid = msg.get("streamSid")
        if sid is not None and sid != self.stream_sid:
            raise ProtocolError(
                f"{clip(event)} for streamSid {clip(sid)}, this socket carries {self.stream_sid!r}",
                CLOSE_POLICY,
            )
        self._seq(msg)

    def _seq(self, msg: Mapping[str, object]) -> None:
        """sequenceNumber is a string counter; log gaps and reordering, never fail on them."""
        raw = msg.get("sequenceNumber")
        if raw is None:
            return
        if not isinstance(raw, (str, int)) or not str(raw).isdigit():
            raise ProtocolError(f"sequenceNumber must be a numeric string, got {clip(raw)}")
        seq = int(raw)
        if self._last_seq and seq != self._last_seq + 1:
            log.debug("twilio: sequenceNumber %d after %d", seq, self._last_seq)
        self._last_seq = seq

    def _media(self, msg: Mapping[str, object]) -> list[InboundEvent]:
        media = _obj(msg, "media")
        track = media.get("track", "inbound")
        payload = b64decode_strict(media.get("payload"), "media.payload")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ProtocolError(
                f"media.payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}", CLOSE_TOO_BIG
            )
        if track not in ("inbound", "inbound_track"):
            return [Ignored(f"media track {track}")]  # a bounded field; never logged
        return [AudioIn(self._in.process(payload))] if payload else [Ignored("empty media")]

    def _mark(self, msg: Mapping[str, object]) -> list[InboundEvent]:
        name = _obj(msg, "mark").get("name")
        if not isinstance(name, str):
            raise ProtocolError("mark.name must be a string")
        cleared = self._marks.resolve(name)
        if cleared is None:
            return [Ignored("echo of a mark never sent", anomaly=True, detail=clip(name))]
        return [MarkEcho(name, cleared=cleared)]

    # ---- outbound ------------------------------------------------------------------

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]:
        return self._media_messages(self._out.process(pcm16k))

    def mark(self, name: str) -> list[WireMessage]:
        """Flush held audio (padded with μ-law silence) so the mark follows all of it."""
        out = self._media_messages(self._out.flush())
        self._marks.sent(name)
        out.append(dumps({"event": "mark", "streamSid": self._sid(), "mark": {"name": name}}))
        return out

    def clear(self) -> list[WireMessage]:
        self._out.reset()
        self._marks.clear()
        return [dumps({"event": "clear", "streamSid": self._sid()})]

    def hangup(self, reason: str) -> list[WireMessage]:
        """No stream message ends a call: closing the socket ends `<Connect>`."""
        return []

    def accepted(self, call_id: str) -> list[WireMessage]:
        return []

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        return []

    def _media_messages(self, frames: list[bytes]) -> list[WireMessage]:
        sid = self._sid()
        return [
            dumps({"event": "media", "streamSid": sid, "media": {"payload": _b64(chunk)}})
            for chunk in batch(frames, MAX_FRAMES_PER_MESSAGE)
        ]

    def _sid(self) -> str:
        if self.stream_sid is None:
            raise RuntimeError("Twilio adapter: outbound message before 'start' gave a streamSid")
        return self.stream_sid


def _b64(data: bytes) -> str:
    """Base64 text of a whole payload."""
    return base64.b64encode(data).decode("ascii")


def _obj(msg: Mapping[str, object], key: str) -> dict[str, object]:
    """A required nested object."""
    value = msg.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{clip(msg.get('event'))} needs an object '{key}'")
    return value
