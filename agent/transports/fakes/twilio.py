"""A fake Twilio Media Streams peer: `connected` + `start`, paced μ-law `media`, marks, `clear`, `stop`."""

from __future__ import annotations

import base64
import binascii
import json
import uuid

import numpy as np

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.transports.fakes.base import FRAME_MS, FakeGateway


class FakeTwilio(FakeGateway):
    """Behaves like Twilio on a bidirectional `<Connect><Stream>`: echoes every pending mark on `clear`."""

    protocol = "twilio"
    wire_rate = 8000

    def __init__(self, url: str, **kwargs: object) -> None:
        super().__init__(url, **kwargs)  # type: ignore[arg-type]
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.call_sid = "CA" + uuid.uuid4().hex
        self._seq = 0
        self._chunk = 0  # media messages sent (Twilio's `chunk`); `timestamp` follows the clock
        self._pending: list[str] = []  # marks queued and not yet echoed

    def _next_seq(self) -> str:
        self._seq += 1
        return str(self._seq)

    async def handshake(self) -> None:
        custom = dict(self.extra)
        for key, value in (("call_id", self.call_id), ("token", self.token), ("secret", self.secret)):
            if value is not None:
                custom[key] = value
        await self._send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await self._send(json.dumps({
            "event": "start", "sequenceNumber": self._next_seq(), "streamSid": self.stream_sid,
            "start": {
                "streamSid": self.stream_sid, "accountSid": "AC" + "0" * 32, "callSid": self.call_sid,
                "tracks": ["inbound"], "customParameters": custom,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }))

    def frame_messages(self, pcm: np.ndarray, index: int) -> list[str | bytes]:
        self._chunk += 1  # with silence suppression chunks stay consecutive while timestamps jump
        return [json.dumps({
            "event": "media", "sequenceNumber": self._next_seq(), "streamSid": self.stream_sid,
            "media": {"track": "inbound", "chunk": str(self._chunk), "timestamp": str(index * FRAME_MS),
                      "payload": base64.b64encode(ulaw_encode(pcm)).decode("ascii")},
        })]

    def dtmf_message(self, digit: str) -> str:
        return json.dumps({"event": "dtmf", "sequenceNumber": self._next_seq(), "streamSid": self.stream_sid,
                           "dtmf": {"track": "inbound_track", "digit": digit}})

    async def send_hangup(self) -> None:
        stop = {"accountSid": "AC" + "0" * 32, "callSid": self.call_sid}
        seq = self._next_seq()
        msg = {"event": "stop", "sequenceNumber": seq, "streamSid": self.stream_sid, "stop": stop}
        await self._send(json.dumps(msg))

    async def on_text(self, text: str) -> None:
        try:
            msg = json.loads(text)
        except json.JSONDecodeError:
            self.error(f"text frame is not JSON: {text[:80]!r}")
            return
        event = msg.get("event") if isinstance(msg, dict) else None
        if event not in ("media", "mark", "clear"):
            self.error(f"unknown or missing event {event!r}")
            return
        if msg.get("streamSid") != self.stream_sid:
            self.error(f"{event} without this stream's streamSid: {msg.get('streamSid')!r}")
        if event == "media":
            self._media(msg)
        elif event == "mark":
            name = msg.get("mark", {}).get("name") if isinstance(msg.get("mark"), dict) else None
            if not isinstance(name, str):
                self.error("mark without mark.name")
                return
            self.record("mark", name=name)
            self._pending.append(name)
            self.enqueue_mark(name)
        else:
            self.record("clear")
            self.drop_queue()
            for name in self._pending:  # Twilio echoes every pending mark right after a clear
                await self._echo(name)
            self._pending.clear()

    def _media(self, msg: dict[str, object]) -> None:
        media = msg.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        try:
            data = base64.b64decode(payload, validate=True) if isinstance(payload, str) else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            self.error("media without a base64 media.payload")
            return
        if len(data) % 160:
            self.error(f"media payload of {len(data)} bytes is not whole 20 ms frames (160 bytes)")
        self.record("media", bytes=len(data))
        self.enqueue_audio(ulaw_decode(data))

    async def mark_played(self, name: str) -> None:
        if name in self._pending:
            self._pending.remove(name)
            await self._echo(name)

    async def _echo(self, name: str) -> None:
        await self._send(json.dumps({"event": "mark", "sequenceNumber": self._next_seq(),
                                     "streamSid": self.stream_sid, "mark": {"name": name}}))
