"""A fake Asterisk chan_websocket peer: MEDIA_START, paced media, MARK_MEDIA echoes, FLUSH_MEDIA, XOFF/XON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import numpy as np

from agent.audio.codecs import alaw_decode, alaw_encode, l16le_decode, l16le_encode, ulaw_decode, ulaw_encode
from agent.transports.fakes.base import FRAME_MS, FakeGateway

MAX_MESSAGE_BYTES = 65500
CODECS: dict[str, tuple[int, int, Callable[[np.ndarray], bytes], Callable[[bytes], np.ndarray]]] = {
    "ulaw": (8000, 1, ulaw_encode, ulaw_decode),
    "alaw": (8000, 1, alaw_encode, alaw_decode),
    "slin": (8000, 2, l16le_encode, l16le_decode),
    "slin16": (16000, 2, l16le_encode, l16le_decode),
}


class FakeAsterisk(FakeGateway):
    """Behaves like `Dial(WebSocket/<client>/c(<format>)nf(json))`; `plain=True`: the old text form.

    JSON mode passes the credentials as channel variables named `<var_prefix>CALL_ID` and
    `<var_prefix>TOKEN` (`Set(_CALL_ID=...)` arrives as CALL_ID, `Set(__CALL_ID=...)` as
    __CALL_ID). Plain-text mode has no channel variables: the credentials go in the URI
    query with this channel's id (`v(call_id=..,token=..,channel_id=..)`). `query` adds URI
    parameters as Asterisk's shared websocket_client may still hold them from another call.
    """

    protocol = "asterisk"
    subprotocols = ("media",)

    def __init__(
        self,
        url: str,
        *,
        format: str = "ulaw",
        plain: bool = False,
        xoff: int = 900,
        xon: int = 800,
        var_prefix: str = "",
        query: Mapping[str, str] | None = None,
        **kwargs: object,
    ) -> None:
        self.format = format
        rate, self.width, self._encode, self._decode = CODECS[format]
        self.wire_rate = rate
        super().__init__(url, **kwargs)  # type: ignore[arg-type]
        self.plain = plain
        self.var_prefix = var_prefix
        self.query = dict(query or {})
        self.frame_bytes = rate * FRAME_MS // 1000 * self.width
        self.channel_id = f"pbx1-{uuid.uuid4().int % 10**10}.1"
        self.answered = False
        self.xoff, self.xon = xoff, xon
        self._paused = False
        self._buffering: bytearray | None = None

    def connect_url(self) -> str:
        query = dict(self.query)
        if self.plain:
            creds = (("call_id", self.call_id), ("token", self.token), ("channel_id", self.channel_id))
            query.update({k: v for k, v in creds if v is not None})
        sep = "&" if "?" in self.url else "?"
        return self.url + (sep + urlencode(query) if query else "")

    async def handshake(self) -> None:
        connection = str(uuid.uuid4())
        if self.plain:
            await self._send(f"MEDIA_START connection_id:{connection} channel:WebSocket/{connection} "
                             f"channel_id:{self.channel_id} format:{self.format} "
                             f"optimal_frame_size:{self.frame_bytes} ptime:{FRAME_MS}")
            return
        variables = dict(self.extra)
        for key, value in (("CALL_ID", self.call_id), ("TOKEN", self.token), ("SECRET", self.secret)):
            if value is not None:
                variables[self.var_prefix + key] = value
        await self._send(json.dumps({
            "event": "MEDIA_START", "connection_id": connection, "channel": f"WebSocket/{connection}",
            "channel_id": self.channel_id, "format": self.format, "optimal_frame_size": self.frame_bytes,
            "ptime": FRAME_MS, "channel_variables": variables,
        }))

    def _event(self, event: str, **fields: object) -> str:
        if self.plain:
            return " ".join([event, *(f"{k}:{v}" for k, v in fields.items())])
        return json.dumps({"event": event, "channel_id": self.channel_id, **fields})

    def frame_messages(self, pcm: np.ndarray, index: int) -> list[str | bytes]:
        return [self._encode(pcm)]

    def dtmf_message(self, digit: str) -> str:
        return self._event("DTMF_END", digit=digit)

    async def on_binary(self, data: bytes) -> None:
        if len(data) > MAX_MESSAGE_BYTES:
            self.error(f"media message of {len(data)} bytes > {MAX_MESSAGE_BYTES}: Asterisk hangs up")
            if self._ws is not None:
                await self._ws.close(1009, "message too big")
            return
        if self._buffering is not None:
            self._buffering += data
            whole = len(self._buffering) - len(self._buffering) % self.frame_bytes
            data, self._buffering = bytes(self._buffering[:whole]), self._buffering[whole:]
        elif len(data) % self.frame_bytes:
            self.error(f"media of {len(data)} bytes is not a multiple of frame size {self.frame_bytes}")
            data = data[: len(data) - len(data) % self.frame_bytes]  # Asterisk drops the leftover
        self.record("media", bytes=len(data))
        self.enqueue_audio(self._decode(data))
        if not self._paused and self.queued_samples >= self.xoff * self.frame_bytes // self.width:
            self._paused = True
            await self._send(self._event("MEDIA_XOFF"))

    async def on_text(self, text: str) -> None:
        command: object
        correlation: object
        if self.plain:
            command, _, arg = text.strip().partition(" ")
            correlation = arg or None
        else:
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                self.error(f"control message is not JSON in JSON mode: {text[:80]!r}")
                return
            command = msg.get("command") if isinstance(msg, dict) else None
            correlation = msg.get("correlation_id") if isinstance(msg, dict) else None
        await self._command(command, correlation)

    async def _command(self, command: object, correlation: object) -> None:
        if command == "ANSWER":
            self.answered = True
            self.record("answer")
        elif command == "HANGUP":
            self.record("hangup")
            if self._ws is not None:
                await self._ws.close(1000, "hangup")
        elif command == "FLUSH_MEDIA":
            self.record("clear")
            self.drop_queue()  # no MEDIA_MARK_PROCESSED for flushed marks
            self._buffering = None
        elif command == "MARK_MEDIA":
            name = str(correlation) if correlation else ""
            self.record("mark", name=name)
            self.enqueue_mark(name)
        elif command == "START_MEDIA_BUFFERING":
            self.record("other", command=command)
            self._buffering = bytearray()
        elif command == "STOP_MEDIA_BUFFERING":
            self.record("other", command=command)
            if self._buffering:
                pad = bytes(self._buffering) + self._encode(np.zeros(self.frame_bytes, dtype=np.int16))
                self.enqueue_audio(self._decode(pad[: self.frame_bytes]))
            self._buffering = None
        elif command == "GET_STATUS":
            frames = self.queued_samples * self.width // self.frame_bytes
            status = self._event(
                "STATUS",
                queue_length=frames,
                xon_level=self.xon,
                xoff_level=self.xoff,
                queue_full=self._paused,
            )
            await self._send(status)
        else:
            self.error(f"unknown command {command!r} (commands are case-sensitive)")

    async def mark_played(self, name: str) -> None:
        await self._send(self._event("MEDIA_MARK_PROCESSED", correlation_id=name))

    async def after_tick(self) -> None:
        if self._paused and self.queued_samples < self.xon * self.frame_bytes // self.width:
            self._paused = False
            await self._send(self._event("MEDIA_XON"))
