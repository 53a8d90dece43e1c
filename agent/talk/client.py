"""A native-protocol call between the local microphone/speaker and the agent.

The microphone is captured at 16 kHz in 20 ms blocks and sent as it arrives (so PortAudio
paces it); agent audio goes into `Playback`, which the speaker callback drains. Marks are
echoed once their audio has played and `clear` drops what is queued, as a gateway does.
Half-duplex by default: while agent audio plays (and `hangover_s` after, plus the device's
output latency) the microphone sends silence, so the agent cannot hear itself and barge in.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

from agent.talk.devices import portaudio
from agent.talk.playback import RATE, Playback

FRAME = 320  # 20 ms at 16 kHz
DRAIN_S = 15.0  # longest wait for the goodbye to finish playing after the agent hangs up


@dataclass
class TalkResult:
    """What happened on the call: the outcome and every server event with its time."""

    outcome: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class TalkClient:
    """Runs one call over `url` with the local audio devices."""

    def __init__(
        self,
        url: str,
        start: dict[str, Any],
        *,
        input_device: int | None = None,
        output_device: int | None = None,
        headset: bool = False,
        hangover_s: float = 0.2,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url = url
        self.start = start
        self.input_device = input_device
        self.output_device = output_device
        self.headset = headset
        self.hangover_s = hangover_s
        self.on_event = on_event or (lambda event: None)
        self.playback = Playback()
        self.result = TalkResult()
        self._mic: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=250)
        self._t0 = 0.0
        self._out_latency = 0.0
        self._hung_up = asyncio.Event()
        self._user_hangup = asyncio.Event()

    def _emit(self, event: dict[str, Any]) -> None:
        event.setdefault("ms", int((time.monotonic() - self._t0) * 1000))
        self.result.events.append(event)
        self.on_event(event)

    def muted(self) -> bool:
        """Whether the microphone is sending silence now (agent speaking, half-duplex)."""
        return not self.headset and self.playback.speaking(self.hangover_s + self._out_latency)

    async def run(self) -> TalkResult:
        """Open the devices, connect, and run until the agent hangs up or the task is cancelled."""
        sd = portaudio()
        loop = asyncio.get_running_loop()

        def on_mic(indata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
            frame = indata[:, 0].copy()
            loop.call_soon_threadsafe(self._put_mic, frame)

        def on_speaker(outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
            outdata[:, 0] = self.playback.read(frames)

        common = {"samplerate": RATE, "channels": 1, "dtype": "int16", "blocksize": FRAME}
        mic = sd.InputStream(device=self.input_device, callback=on_mic, **common)
        speaker = sd.OutputStream(device=self.output_device, callback=on_speaker, latency="low", **common)
        self._out_latency = float(speaker.latency)
        async with websockets.connect(self.url, max_size=2**22) as ws:
            self._t0 = time.monotonic()
            await ws.send(json.dumps(self.start))
            with mic, speaker:
                tasks = [asyncio.create_task(c) for c in (self._send(ws), self._receive(ws), self._marks(ws))]
                try:
                    await _first(self._hung_up, self._user_hangup)
                    if self._user_hangup.is_set() and not self._hung_up.is_set():
                        await self._hang_up(ws)
                    else:
                        await self._drain()
                except asyncio.CancelledError:
                    await self._hang_up(ws)
                    raise
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        return self.result

    def hang_up(self) -> None:
        """The user hangs up (Ctrl-C); call from the event loop's thread."""
        self._user_hangup.set()

    def _put_mic(self, frame: np.ndarray) -> None:
        if self._mic.full():
            self._mic.get_nowait()  # the socket fell behind: drop the oldest audio, keep real time
        self._mic.put_nowait(frame)

    async def _send(self, ws: Any) -> None:
        """Mic frames to the server, or silence of the same length while muted."""
        was_muted = False
        while True:
            frame = await self._mic.get()
            muted = self.muted()
            if muted != was_muted:
                self._emit({"type": "muted" if muted else "listening"})
                was_muted = muted
            if muted:
                frame = np.zeros_like(frame)
            await ws.send(frame.astype("<i2").tobytes())

    async def _receive(self, ws: Any) -> None:
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    self.playback.add(np.frombuffer(message, dtype="<i2"))
                    continue
                event = json.loads(message)
                kind = event.get("type")
                if kind == "mark":
                    self.playback.mark(str(event.get("name")))
                    continue
                if kind == "clear":
                    self.playback.clear()
                elif kind == "hangup":
                    self.result.outcome = str(event.get("reason"))
                self._emit(event)
                if kind == "hangup":
                    break
        except websockets.ConnectionClosed as exc:
            self._emit({"type": "closed", "code": exc.code if hasattr(exc, "code") else None})
        finally:
            self._hung_up.set()

    async def _marks(self, ws: Any) -> None:
        """Echo each mark once the audio before it has played."""
        while True:
            for name in self.playback.due_marks():
                await ws.send(json.dumps({"type": "mark", "name": name}))
            await asyncio.sleep(0.02)

    async def _drain(self) -> None:
        """Let the goodbye finish playing."""
        deadline = time.monotonic() + DRAIN_S
        while self.playback.buffered > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(self._out_latency)

    async def _hang_up(self, ws: Any) -> None:
        """Tell the server the customer hung up, and give it a moment to close the call."""
        self.result.outcome = self.result.outcome or "customer_hangup"
        self._emit({"type": "hangup", "reason": "customer_hangup"})
        try:
            await ws.send(json.dumps({"type": "hangup"}))
            await asyncio.wait_for(self._hung_up.wait(), 2.0)
        except Exception:  # noqa: BLE001 - the socket may already be gone
            return


async def _first(*events: asyncio.Event) -> None:
    """Wait until any of the events is set."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
