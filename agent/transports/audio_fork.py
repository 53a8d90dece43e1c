"""The mod_audio_fork wire protocol that jambonz `listen` and FreeSWITCH `uuid_audio_fork` share.

Gateway -> us: one metadata text frame first, then binary L16 (little-endian, headerless)
at the inbound rate, plus JSON text events: `{"event":"dtmf","dtmf":"5"}` and
`{"type":"mark","data":{"name":..,"event":"playout"|"cleared"}}`. Us -> gateway (streaming
bidirectional mode): binary L16 at the bidirectional rate, `{"type":"killAudio"}`,
`{"type":"mark","data":{"name":..}}`, `{"type":"disconnect"}`. Control is always TEXT,
audio always BINARY: a text audio frame would be parsed as a command.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from agent.audio.codecs import l16le_decode, l16le_encode
from agent.transports.base import (
    AudioIn,
    CallStart,
    DtmfIn,
    Ignored,
    InboundEvent,
    MarkEcho,
    ProtocolError,
    WireMessage,
)
from agent.transports.common import (
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    FRAME_MS,
    InboundAudio,
    OutboundAudio,
    as_rate,
    basic_auth,
    batch,
    check_binary,
    check_digit,
    clip,
    dumps,
    log,
    opt_str,
    param_str,
    parse_object,
)

RATES = (8000, 16000, 24000, 32000, 44100, 48000, 64000)
MAX_FRAMES_PER_MESSAGE = 50  # 1 s of audio per binary frame at most
MAX_PENDING_MARKS = 30  # mod_audio_fork keeps at most 30 marks queued
CREDENTIAL_KEYS = ("call_id", "token", "secret")
MAX_METADATA_TEXT = 4096  # a non-JSON FreeSWITCH metadata string
INFO_TYPES = frozenset({"playDone", "transcription", "transfer", "error", "json"})


class AudioForkAdapter:
    """Base adapter for mod_audio_fork peers; subclasses set the names, default rate and metadata rules."""

    protocol = "audio_fork"
    subprotocols: tuple[str, ...] = ()
    buffers_audio = True
    default_rate = 8000
    metadata_must_be_json = True

    def __init__(
        self, headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None
    ) -> None:
        self._query = dict(query or {})
        auth = basic_auth(headers)
        self._auth_user: str | None = auth[0] if auth else None
        self._auth_password: str | None = auth[1] if auth else None
        self._started = False
        self._channels = 1
        self.in_rate = self.default_rate
        self.out_rate = self.default_rate
        self._in: InboundAudio | None = None
        self._out: OutboundAudio | None = None
        self._pending_marks = 0

    # ---- inbound -------------------------------------------------------------------

    def on_text(self, text: str) -> list[InboundEvent]:
        if not self._started:
            return [self._start(text)]
        msg = parse_object(text, self.protocol)
        if msg.get("event") == "dtmf":
            return [DtmfIn(check_digit(msg.get("dtmf", msg.get("digit"))))]
        kind = msg.get("type")
        if kind == "mark":
            return [self._mark(msg)]
        if isinstance(kind, str) and kind in INFO_TYPES:
            return [Ignored(kind)]
        if not isinstance(kind, str) and not isinstance(msg.get("event"), str):
            raise ProtocolError(f"a {self.protocol} control message needs a string 'type' or 'event'")
        return [Ignored("unknown message", anomaly=True, detail=clip(kind or msg.get("event")))]

    def on_binary(self, data: bytes) -> list[InboundEvent]:
        if self._in is None:
            raise ProtocolError(f"{self.protocol}: audio before the metadata text frame", CLOSE_POLICY)
        check_binary(data, self.protocol, align=2 * self._channels)
        if not data:
            return [Ignored("empty audio")]
        if self._channels == 2:  # stereo: caller on the first channel, interleaved
            data = np.frombuffer(data, dtype="<i2")[0::2].astype("<i2").tobytes()
        return [AudioIn(self._in.process(data))]

    def _start(self, text: str) -> CallStart:
        """The first text frame is the call's metadata."""
        meta = self._metadata(text)
        nested = meta.get("metadata")
        inner: dict[str, object] = nested if isinstance(nested, dict) else {}

        def pick(*keys: str) -> object:
            for source in (meta, inner, self._query):
                for key in keys:
                    if source.get(key) not in (None, ""):
                        return source[key]
            return None

        rate = pick("sampleRate", "sample_rate")
        self.in_rate = as_rate(rate, RATES, "sampleRate") if rate is not None else self.default_rate
        bidir = pick("bidirectionalAudio")
        if isinstance(bidir, dict):
            out = bidir.get("sampleRate")
        else:
            out = pick("out_sample_rate", "bidirectionalSampleRate")
        self.out_rate = as_rate(out, RATES, "bidirectional sampleRate") if out is not None else self.in_rate
        mix = pick("mixType", "mix_type")
        self._channels = 2 if mix == "stereo" else 1
        self._in = InboundAudio(self.in_rate, l16le_decode)
        self._out = OutboundAudio(self.out_rate, self.out_rate * FRAME_MS // 1000, l16le_encode)
        self._started = True
        params = {k: param_str(v) for k, v in meta.items() if k not in CREDENTIAL_KEYS and k != "metadata"}
        params.update({k: param_str(v) for k, v in inner.items() if k not in CREDENTIAL_KEYS})
        params["out_sample_rate"] = str(self.out_rate)
        if self._auth_user:
            params["auth_user"] = self._auth_user
        return CallStart(
            protocol=self.protocol,
            call_id=opt_str(pick("call_id")),
            token=opt_str(pick("token")),
            secret=self._auth_password or opt_str(pick("secret")),
            params=params,
            wire_rate=self.in_rate,
        )

    def _metadata(self, text: str) -> dict[str, object]:
        """Parse the metadata frame; FreeSWITCH allows any string, jambonz always sends JSON."""
        if self.metadata_must_be_json or text.lstrip().startswith("{"):
            return parse_object(text, f"{self.protocol} metadata")
        if len(text) > MAX_METADATA_TEXT:
            raise ProtocolError(
                f"{self.protocol} metadata text of {len(text)} chars exceeds {MAX_METADATA_TEXT}",
                CLOSE_TOO_BIG,
            )
        return {"metadata_text": text}

    def _mark(self, msg: Mapping[str, object]) -> MarkEcho:
        data = msg.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProtocolError("a mark message needs data.name as a string")
        event = data.get("event")
        if event not in ("playout", "cleared"):
            raise ProtocolError(f"mark data.event must be 'playout' or 'cleared', got {clip(event)}")
        self._pending_marks = max(0, self._pending_marks - 1)
        return MarkEcho(str(data["name"]), cleared=event == "cleared")

    # ---- outbound ------------------------------------------------------------------

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]:
        return list(batch(self._pipe().process(pcm16k), MAX_FRAMES_PER_MESSAGE))

    def mark(self, name: str) -> list[WireMessage]:
        """Flush held audio (padded with silence) so the mark follows all of it."""
        out: list[WireMessage] = list(batch(self._pipe().flush(), MAX_FRAMES_PER_MESSAGE))
        self._pending_marks += 1
        if self._pending_marks > MAX_PENDING_MARKS:
            log.warning(
                "%s: %d marks pending; the gateway keeps only %d",
                self.protocol, self._pending_marks, MAX_PENDING_MARKS,
            )
        out.append(dumps({"type": "mark", "data": {"name": name}}))
        return out

    def clear(self) -> list[WireMessage]:
        """killAudio: the gateway drops its buffer and echoes pending marks as `cleared`."""
        self._pipe().reset()
        return [dumps({"type": "killAudio"})]

    def hangup(self, reason: str) -> list[WireMessage]:
        return [dumps({"type": "disconnect"})]

    def accepted(self, call_id: str) -> list[WireMessage]:
        return []

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        return []

    def _pipe(self) -> OutboundAudio:
        if self._out is None:
            raise RuntimeError(f"{self.protocol} adapter: outbound audio before the metadata frame")
        return self._out
