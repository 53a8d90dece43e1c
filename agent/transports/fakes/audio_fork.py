"""Fake mod_audio_fork peers (jambonz `listen`, FreeSWITCH `uuid_audio_fork`): metadata, L16, marks."""

from __future__ import annotations

import base64
import json
import uuid

import numpy as np

from agent.audio.codecs import l16le_decode, l16le_encode
from agent.transports.fakes.base import FakeGateway


class FakeAudioFork(FakeGateway):
    """Shared behaviour: JSON metadata first, binary L16 LE, marks echoed `playout` or `cleared`."""

    protocol = "audio_fork"
    subprotocols: tuple[str, ...] = ("audio.drachtio.org",)

    def __init__(self, url: str, *, rate: int = 16000, out_rate: int | None = None, nested: bool = False,
                 **kwargs: object) -> None:
        self.wire_rate = rate
        super().__init__(url, **kwargs)  # type: ignore[arg-type]
        self.out_rate = out_rate or rate
        self.nested = nested  # put credentials in a nested "metadata" object
        self.call_sid = str(uuid.uuid4())
        self._pending: list[str] = []

    def metadata(self) -> dict[str, object]:
        """The first text frame."""
        creds: dict[str, object] = dict(self.extra)
        for key, value in (("call_id", self.call_id), ("token", self.token)):
            if value is not None:
                creds[key] = value
        if self.out_rate != self.wire_rate:
            creds["out_sample_rate"] = self.out_rate
        meta: dict[str, object] = {"sampleRate": self.wire_rate}
        if self.nested:
            meta["metadata"] = creds
        else:
            meta.update(creds)
        return meta

    def connect_headers(self) -> dict[str, str]:
        headers = super().connect_headers()
        if self.secret is not None:
            basic = base64.b64encode(f"voice-agent:{self.secret}".encode()).decode()
            headers["Authorization"] = "Basic " + basic
        return headers

    async def handshake(self) -> None:
        await self._send(json.dumps(self.metadata()))

    def frame_messages(self, pcm: np.ndarray, index: int) -> list[str | bytes]:
        return [l16le_encode(pcm)]

    def dtmf_message(self, digit: str) -> str:
        return json.dumps({"event": "dtmf", "dtmf": digit, "duration": "1600"})

    async def on_binary(self, data: bytes) -> None:
        if len(data) % 2:
            self.error(f"L16 frame of odd length {len(data)}")
            data = data[:-1]
        self.record("media", bytes=len(data))
        self.enqueue_audio(l16le_decode(data))

    async def on_text(self, text: str) -> None:
        try:
            msg = json.loads(text)
        except json.JSONDecodeError:
            self.error(f"text frame is not JSON (audio must be binary): {text[:80]!r}")
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "killAudio":
            self.record("clear")
            dropped = set(self.drop_queue())
            for name in [n for n in self._pending if n in dropped]:
                self._pending.remove(name)
                await self._echo(name, "cleared")
        elif kind == "mark":
            data = msg.get("data")
            mark_name = data.get("name") if isinstance(data, dict) else None
            if not isinstance(mark_name, str):
                self.error("mark without data.name")
                return
            name = mark_name
            if len(self._pending) >= 30:
                self.error("more than 30 marks queued (mod_audio_fork drops them)")
            self.record("mark", name=name)
            self._pending.append(name)
            self.enqueue_mark(name)
        elif kind == "clearMarks":
            self.record("other", type=kind)
            self._pending.clear()
            self.drop_marks()
        elif kind == "disconnect":
            self.record("hangup")
            if self._ws is not None:
                await self._ws.close(1000, "disconnect")
        else:
            self.error(f"unknown or missing type {kind!r}")

    async def mark_played(self, name: str) -> None:
        if name in self._pending:
            self._pending.remove(name)
            await self._echo(name, "playout")

    async def _echo(self, name: str, event: str) -> None:
        await self._send(json.dumps({"type": "mark", "data": {"name": name, "event": event}}))


class FakeJambonz(FakeAudioFork):
    """jambonz `listen` with bidirectionalAudio streaming; metadata carries call info plus our keys."""

    protocol = "jambonz"
    subprotocols = ("audio.jambonz.org",)

    def metadata(self) -> dict[str, object]:
        info: dict[str, object] = {
            "sampleRate": self.wire_rate, "mixType": "mono", "callSid": self.call_sid, "direction": "inbound",
            "from": "+15550100", "to": "+15550199", "callId": str(uuid.uuid4()), "sipStatus": 200,
            "sipReason": "OK", "callStatus": "in-progress", "accountSid": str(uuid.uuid4()),
            "applicationSid": str(uuid.uuid4()), "traceId": uuid.uuid4().hex,
        }
        info.update(super().metadata())
        return info


class FakeFreeswitch(FakeAudioFork):
    """FreeSWITCH `uuid_audio_fork ... true true <rate>`: metadata is exactly what the command passed."""

    protocol = "freeswitch"
    subprotocols = ("audio.drachtio.org",)
