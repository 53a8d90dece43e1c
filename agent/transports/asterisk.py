"""Asterisk chan_websocket (`Dial(WebSocket/<client>/c(slin16)nf(json))`): binary media, text control.

Asterisk -> us: `MEDIA_START` first (JSON, or the older plain-text `MEDIA_START key:value ...`;
we answer in the same form), then binary media in the announced `format` (ulaw, alaw, slin,
slinNN), `DTMF_END`, `MEDIA_MARK_PROCESSED`, `MEDIA_XOFF`/`MEDIA_XON`, and statuses.
Us -> Asterisk: binary media in whole multiples of `optimal_frame_size` (never more than
65,500 bytes a message: Asterisk hangs up on bigger ones), `ANSWER` once admitted (use the
`n` dial option so an unauthenticated socket never answers), `MARK_MEDIA`, `FLUSH_MEDIA`,
`HANGUP`. We never use START/STOP_MEDIA_BUFFERING: every message is already whole frames
(a mark flushes the tail padded with silence), so nothing would be dropped or padded.
FLUSH_MEDIA gives no echo for the marks it drops, so they are reported as cleared with the
next inbound frame (within 20 ms); a late echo for one of them is ignored.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping

import numpy as np

from agent.audio.codecs import alaw_decode, alaw_encode, l16le_decode, l16le_encode, ulaw_decode, ulaw_encode
from agent.transports.base import (
    AudioIn,
    CallStart,
    DtmfIn,
    FlowControl,
    Ignored,
    InboundEvent,
    MarkEcho,
    ProtocolError,
    WireMessage,
)
from agent.transports.common import (
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    MAX_TEXT_CHARS,
    InboundAudio,
    MarkLedger,
    OutboundAudio,
    basic_auth,
    batch,
    check_binary,
    check_digit,
    check_fields,
    clip,
    dumps,
    opt_str,
    param_str,
    parse_object,
)

MAX_MESSAGE_BYTES = 65500  # Asterisk closes the socket and hangs up on anything bigger
MIN_FRAME_MS, MAX_FRAME_MS = 10, 150  # the ptime range Asterisk's codecs allow
INFO_EVENTS = frozenset({"MEDIA_BUFFERING_COMPLETED", "QUEUE_DRAINED", "STATUS", "DTMF_BEGIN"})
SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CREDENTIAL_KEYS = ("call_id", "token", "secret")
SLIN_RATES = {"slin": 8000, "slin12": 12000, "slin16": 16000, "slin24": 24000, "slin32": 32000,
              "slin44": 44100, "slin48": 48000, "slin96": 96000, "slin192": 192000}


def _codec(fmt: str) -> tuple[int, int, Callable[[bytes], np.ndarray], Callable[[np.ndarray], bytes]]:
    """(rate, bytes per sample, decode, encode) for an Asterisk format name."""
    if fmt == "ulaw":
        return 8000, 1, ulaw_decode, ulaw_encode
    if fmt == "alaw":
        return 8000, 1, alaw_decode, alaw_encode
    if fmt in SLIN_RATES:
        return SLIN_RATES[fmt], 2, l16le_decode, l16le_encode
    raise ProtocolError(
        f"unsupported Asterisk media format {clip(fmt)}; dial with c(ulaw), c(alaw), c(slin) or c(slin16)",
        CLOSE_UNSUPPORTED,
    )


def _frame_size(value: object, rate: int, width: int) -> int:
    """optimal_frame_size: whole samples, 10 to 150 ms of audio (Asterisk's ptime range), <= 65,500 bytes.

    Tiny frames would make every second of agent audio hundreds of encode calls and messages.
    """
    size = int(value) if isinstance(value, str) and value.isdigit() and len(value) < 7 else value
    per_ms = rate * width / 1000
    low, high = int(per_ms * MIN_FRAME_MS), min(int(per_ms * MAX_FRAME_MS), MAX_MESSAGE_BYTES)
    if not isinstance(size, int) or isinstance(size, bool) or size % width or not low <= size <= high:
        raise ProtocolError(
            f"optimal_frame_size must be a multiple of {width} bytes from {low} to {high} "
            f"({MIN_FRAME_MS}-{MAX_FRAME_MS} ms), got {clip(value)}"
        )
    return size


def channel_variables(variables: Mapping[object, object]) -> dict[str, object]:
    """Channel variables by name with Asterisk's inheritance underscores removed (_X, __X -> X).

    `Set(_CALL_ID=...)` reaches the WebSocket channel as CALL_ID, `Set(__CALL_ID=...)` as
    __CALL_ID; either means CALL_ID. Two spellings with different values are refused.
    """
    named: dict[str, object] = {}
    for key, value in variables.items():
        name = str(key).lstrip("_")
        if not name:
            continue
        if name in named and named[name] != value:
            raise ProtocolError(f"channel variables disagree on {clip(name)}", CLOSE_POLICY)
        named[name] = value
    return named


def _lookup(named: Mapping[str, object], key: str) -> object:
    """A channel variable by case-insensitive name; conflicting spellings are refused."""
    values = {repr(v): v for k, v in named.items() if k.lower() == key}
    if len(values) > 1:
        raise ProtocolError(f"channel variables disagree on {key.upper()}", CLOSE_POLICY)
    return next(iter(values.values()), None)


def parse_plain(text: str) -> dict[str, object]:
    """`EVENT key:value key:value [bare]` -> {"event": EVENT, key: value, "correlation_id": bare}."""
    if len(text) > MAX_TEXT_CHARS:
        raise ProtocolError(f"Asterisk frame of {len(text)} chars exceeds {MAX_TEXT_CHARS}", CLOSE_TOO_BIG)
    head, *tokens = text.split()
    msg: dict[str, object] = {"event": head}
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep:
            msg[key] = value
        else:
            msg.setdefault("correlation_id", token)
    check_fields(msg, "Asterisk")
    return msg


class AsteriskAdapter:
    """Adapter for Asterisk chan_websocket (JSON control mode preferred, plain text understood)."""

    protocol = "asterisk"
    subprotocols: tuple[str, ...] = ("media",)
    buffers_audio = True

    def __init__(
        self, headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None
    ) -> None:
        self._query = dict(query or {})
        auth = basic_auth(headers)
        self._auth_user: str | None = auth[0] if auth else None
        self._auth_password: str | None = auth[1] if auth else None
        self.json_mode = True
        self.frame_bytes = 0
        self._width = 1
        self._in: InboundAudio | None = None
        self._out: OutboundAudio | None = None
        self._marks = MarkLedger()
        self._ids: dict[str, str] = {}  # correlation_id -> mark name
        self._next_id = 0
        self._deferred: list[InboundEvent] = []

    # ---- inbound -------------------------------------------------------------------

    def on_text(self, text: str) -> list[InboundEvent]:
        if not text.strip():
            raise ProtocolError("empty Asterisk control message")
        if self._in is None:
            return [self._start(text)]
        msg = parse_object(text, "Asterisk") if self.json_mode else parse_plain(text)
        return self._take_deferred() + self._event(msg)

    def on_binary(self, data: bytes) -> list[InboundEvent]:
        if self._in is None:
            raise ProtocolError("Asterisk: media before MEDIA_START", CLOSE_POLICY)
        check_binary(data, "Asterisk", align=self._width)
        events = self._take_deferred()
        events.append(AudioIn(self._in.process(data)) if data else Ignored("empty media"))
        return events

    def _event(self, msg: Mapping[str, object]) -> list[InboundEvent]:
        event = msg.get("event")
        if not isinstance(event, str):
            raise ProtocolError("an Asterisk event needs a string 'event'")
        if event == "DTMF_END":
            return [DtmfIn(check_digit(msg.get("digit")))]
        if event == "MEDIA_MARK_PROCESSED":
            return [self._mark_processed(msg)]
        if event == "MEDIA_XOFF":
            return [FlowControl(paused=True)]
        if event == "MEDIA_XON":
            return [FlowControl(paused=False)]
        if event in INFO_EVENTS:
            return [Ignored(event)]
        if event == "MEDIA_START":
            raise ProtocolError("MEDIA_START was already received", CLOSE_POLICY)
        if event == "ERROR":  # Asterisk refused something we sent
            return [Ignored("Asterisk ERROR", anomaly=True, detail=clip(msg.get("error_text"), 120))]
        return [Ignored("unknown event", anomaly=True, detail=clip(event))]

    def _start(self, text: str) -> CallStart:
        """MEDIA_START: format, frame size, channel ids and channel variables."""
        self.json_mode = text.lstrip().startswith("{")
        msg = parse_object(text, "Asterisk MEDIA_START") if self.json_mode else parse_plain(text)
        if msg.get("event") != "MEDIA_START":
            raise ProtocolError(f"expected MEDIA_START first, got {clip(msg.get('event'))}", CLOSE_POLICY)
        fmt = msg.get("format")
        if not isinstance(fmt, str):
            raise ProtocolError("MEDIA_START lacks 'format'; dial with c(<codec>) on Asterisk 20.16+/22.6+")
        rate, width, decode, encode = _codec(fmt)
        size = _frame_size(msg.get("optimal_frame_size"), rate, width)
        variables = msg.get("channel_variables", {})
        if not isinstance(variables, dict):
            raise ProtocolError("channel_variables must be an object")
        named = channel_variables(variables)
        creds = self._credentials(named, msg) if self.json_mode else self._plain_credentials(msg)
        self.frame_bytes, self._width = size, width
        self._in = InboundAudio(rate, decode)
        self._out = OutboundAudio(rate, size // width, encode)
        params = {k: param_str(v) for k, v in msg.items() if k not in ("event", "channel_variables")}
        params.update({k: param_str(v) for k, v in named.items() if k.lower() not in CREDENTIAL_KEYS})
        if self._auth_user:
            params["auth_user"] = self._auth_user
        return CallStart(
            protocol=self.protocol,
            call_id=creds.get("call_id"),
            token=creds.get("token"),
            secret=self._auth_password or creds.get("secret"),
            params=params,
            wire_rate=rate,
        )

    def _credentials(self, named: Mapping[str, object], msg: Mapping[str, object]) -> dict[str, str]:
        """JSON mode: call credentials only from this channel's own variables, never the URI query.

        Asterisk keeps `v()` URI parameters on the shared websocket_client and sends them again
        on later calls, so a query may belong to another call.
        """
        creds = {k: v for k in CREDENTIAL_KEYS if (v := opt_str(_lookup(named, k))) is not None}
        if "call_id" not in creds:
            stale = " (call credentials in the URI query are ignored: Asterisk reuses them across calls)"
            raise ProtocolError(
                "MEDIA_START channel_variables carry no CALL_ID: Set(_CALL_ID=...) and Set(_TOKEN=...) "
                "before Dial (without the leading underscore the WebSocket channel does not inherit them)"
                + (stale if any(k in self._query for k in CREDENTIAL_KEYS) else ""),
                CLOSE_POLICY,
            )
        return creds

    def _plain_credentials(self, msg: Mapping[str, object]) -> dict[str, str]:
        """Plain-text mode has no channel variables: trust the query only if it names this channel."""
        channel = opt_str(msg.get("channel_id"))
        claimed = opt_str(self._query.get("channel_id"))
        if channel is None or claimed is None or not hmac.compare_digest(channel.encode(), claimed.encode()):
            raise ProtocolError(
                "plain-text chan_websocket: the URI query's call credentials are not proven to belong "
                "to this channel (Asterisk reuses v() parameters across calls); dial with f(json) and "
                "Set(_CALL_ID=...)/Set(_TOKEN=...), or put channel_id=<this channel's id> in the query",
                CLOSE_POLICY,
            )
        return {k: v for k in CREDENTIAL_KEYS if (v := opt_str(self._query.get(k))) is not None}

    def _mark_processed(self, msg: Mapping[str, object]) -> InboundEvent:
        cid = opt_str(msg.get("correlation_id"))
        if cid is None:
            raise ProtocolError("MEDIA_MARK_PROCESSED needs a correlation_id")
        name = self._ids.pop(cid, None)
        cleared = self._marks.resolve(name) if name is not None else None
        if cleared is None:
            return Ignored("mark echo for an unknown correlation_id", anomaly=True, detail=clip(cid))
        if cleared:
            return Ignored("stale mark")  # already reported as cleared after FLUSH_MEDIA
        return MarkEcho(name, cleared=False)  # type: ignore[arg-type]

    def _take_deferred(self) -> list[InboundEvent]:
        events, self._deferred = self._deferred, []
        return events

    # ---- outbound ------------------------------------------------------------------

    def audio(self, pcm16k: np.ndarray) -> list[WireMessage]:
        return self._media(self._pipe().process(pcm16k))

    def mark(self, name: str) -> list[WireMessage]:
        """Flush held audio (padded with silence) so the mark follows all of it."""
        out = self._media(self._pipe().flush())
        cid = name if SAFE_ID.fullmatch(name) and name not in self._ids else self._new_id()
        self._ids[cid] = name
        self._marks.sent(name)
        out.append(self._command("MARK_MEDIA", correlation_id=cid))
        return out

    def clear(self) -> list[WireMessage]:
        """FLUSH_MEDIA; the marks it drops are reported as cleared with the next inbound frame."""
        self._pipe().reset()
        cleared = self._marks.clear()
        self._deferred.extend(MarkEcho(name, cleared=True) for name in cleared)
        self._ids = {cid: n for cid, n in self._ids.items() if n not in cleared} if cleared else self._ids
        return [self._command("FLUSH_MEDIA")]

    def hangup(self, reason: str) -> list[WireMessage]:
        return [self._command("HANGUP")]

    def accepted(self, call_id: str) -> list[WireMessage]:
        """ANSWER: needed with the `n` dial option, harmless when Asterisk already answered."""
        return [self._command("ANSWER")]

    def notify(self, event: Mapping[str, object]) -> list[WireMessage]:
        return []

    def _command(self, command: str, correlation_id: str | None = None) -> str:
        if self.json_mode:
            msg: dict[str, object] = {"command": command}
            if correlation_id is not None:
                msg["correlation_id"] = correlation_id
            return dumps(msg)
        return f"{command} {correlation_id}" if correlation_id is not None else command

    def _media(self, frames: list[bytes]) -> list[WireMessage]:
        return list(batch(frames, MAX_MESSAGE_BYTES // self.frame_bytes))

    def _new_id(self) -> str:
        self._next_id += 1
        while f"m{self._next_id}" in self._ids:
            self._next_id += 1
        return f"m{self._next_id}"

    def _pipe(self) -> OutboundAudio:
        if self._out is None:
            raise RuntimeError("Asterisk adapter: outbound audio before MEDIA_START")
        return self._out
