"""How the simulated customer reaches the agent: the native protocol, or a telephone gateway.

A link carries the customer's speech and key presses to the runtime, plays the agent's
audio back on a real-time clock, and tells the customer (a `LinkSink`) when agent audio
arrives, when the runtime cleared it, and when the call ended. Times are seconds on the
link's own clock (0 = the socket opened).

- `NativeLink`: the native protocol (16 kHz PCM16 + JSON call-progress events).
- `GatewayLink`: a fake telephone gateway from `agent.transports.fakes` (Twilio μ-law 8 kHz,
  jambonz/FreeSWITCH L16, Asterisk μ-law), so the call sounds as it does on a phone line.
  Gateways carry no call-progress JSON: the runner reads the outcome and transcript from
  `GET /v1/calls/{call_id}` after the call.

Either link takes `line=` (`continuous`, `suppressed`, `jitter`, `suppressed+jitter` or a
`fakes.line.Line`: how the customer's audio reaches the runtime) and `drop=`
(`before_start`, `after_start`, `mid_utterance`: the customer's side closes early), so
`make_link(..., line="suppressed")` plays any scenario over a silence-suppressed line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import websockets

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.audio.frames import FRAME_SAMPLES
from agent.audio.resample import resample
from agent.transports.fakes import FAKES, FakeGateway, GatewayEvent
from agent.transports.fakes.line import DROPS, Line, Outbox, line_for

FRAME_S = 0.02
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
TRANSPORTS = ("native", *FAKES)


class LinkSink(Protocol):
    """What a link tells the customer."""

    def on_agent_audio(self, t: float) -> None: ...

    def on_clear(self, t: float) -> None: ...

    def on_event(self, event: dict[str, Any]) -> None: ...

    def on_closed(self) -> None: ...


class Link(Protocol):
    """The customer's side of the wire."""

    name: str
    carries_progress: bool  # True when the runtime sends call-progress JSON (native only)

    @property
    def played(self) -> list[tuple[int, np.ndarray]]:
        """(start sample at 16 kHz, agent audio as heard)."""
        ...

    async def open(self, sink: LinkSink) -> None: ...

    async def close(self) -> None: ...

    def now(self) -> float: ...

    async def speak(self, pcm16k: np.ndarray, on_onset: Callable[[float], None]) -> float: ...

    async def dtmf(self, digit: str) -> None: ...

    def playing_until(self) -> float: ...

    def heard(self, pcm16k: np.ndarray) -> np.ndarray: ...


class NativeLink:
    """Native protocol: 20 ms PCM16 frames each way, JSON control, marks echoed when played."""

    name = "native"
    carries_progress = True

    def __init__(self, url: str, start: dict[str, Any], *, line: str | Line = "continuous",
                 drop: str | None = None) -> None:
        if drop is not None and drop not in DROPS:
            raise ValueError(f"unknown drop {drop!r}; choose from {', '.join(DROPS)}")
        self.url = url
        self.start_msg = start
        self.line = line_for(line)
        self.drop = drop
        self.sent_frames = 0  # customer frames put on the line
        self._outbox: Outbox | None = None
        self._drop_after: int | None = None  # frames of the first utterance sent before a mid-utterance drop
        self.played: list[tuple[int, np.ndarray]] = []
        self._sink: LinkSink | None = None
        self._ws: Any = None
        self._t0 = 0.0
        self._out: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self._play_until = 0.0
        self._pending_marks: list[tuple[float, str]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def now(self) -> float:
        return time.monotonic() - self._t0

    async def open(self, sink: LinkSink) -> None:
        self._sink = sink
        self._ws = await websockets.connect(self.url, max_size=2**22)
        self._t0 = time.monotonic()
        self._outbox = Outbox(self.line, self._wire_send)
        self._tasks = [asyncio.create_task(self._outbox.run())]
        if self.drop != "before_start":
            self._outbox.put([json.dumps(self.start_msg)])
        if self.drop in ("before_start", "after_start"):
            await self._abandon()
            sink.on_closed()
            return
        self._tasks += [asyncio.create_task(self._sender()), asyncio.create_task(self._receiver())]

    async def _wire_send(self, message: str | bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(message)

    async def _abandon(self) -> None:
        """The customer's side goes away early: what is on the line arrives, then the socket closes."""
        assert self._outbox is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.drained(), 2.0)
        await self._ws.close(1001, "going away")

    async def close(self) -> None:
        """Stop the clocks, let what is already on the line arrive, close the socket."""
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks[1:], return_exceptions=True)
        if self._outbox is not None and self._ws is not None and self._ws.close_code is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.drained(), 2.0)
        for task in self._tasks[:1]:
            task.cancel()
        await asyncio.gather(*self._tasks[:1], return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()

    async def _sender(self) -> None:
        """Every 20 ms put one frame on the line: the customer's speech, or silence (none when suppressed)."""
        assert self._outbox is not None
        silence = None if self.line.suppress_silence else SILENCE
        n = 0
        while True:
            delay = n * FRAME_S - self.now()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = self._out.get_nowait() if not self._out.empty() else silence
            if frame is not None:
                if self._drop_after is not None:
                    if self._drop_after == 0:
                        await self._abandon()
                        return
                    self._drop_after -= 1
                self._outbox.put([frame.astype("<i2").tobytes()])
                self.sent_frames += 1
            n += 1
            self._flush_marks()

    def _flush_marks(self) -> None:
        assert self._outbox is not None
        now = self.now()
        while self._pending_marks and self._pending_marks[0][0] <= now:
            _, name = self._pending_marks.pop(0)
            self._outbox.put([json.dumps({"type": "mark", "name": name})])

    async def _receiver(self) -> None:
        assert self._sink is not None
        try:
            async for message in self._ws:
                now = self.now()
                if isinstance(message, bytes):
                    self._sink.on_agent_audio(now)
                    pcm = np.frombuffer(message, dtype="<i2")
                    start = max(now, self._play_until)
                    self.played.append((int(start * 16000), pcm))
                    self._play_until = start + len(pcm) / 16000
                    continue
                event = json.loads(message)
                event["ms"] = int(now * 1000)
                kind = event.get("type")
                if kind == "mark":
                    self._pending_marks.append((max(now, self._play_until), str(event.get("name"))))
                    continue
                if kind == "clear":
                    self._on_clear(now)
                    self._sink.on_clear(now)
                self._sink.on_event(event)
                if kind == "hangup":
                    return
        finally:
            self._sink.on_closed()

    def _on_clear(self, now: float) -> None:
        """Drop agent audio not yet played, as a gateway does on clear."""
        cut = int(now * 16000)
        self.played = [(s, pcm[: max(0, cut - s)]) for s, pcm in self.played if s < cut]
        self._play_until = now
        self._pending_marks.clear()  # cleared marks are not echoed as played

    async def speak(self, pcm16k: np.ndarray, on_onset: Callable[[float], None]) -> float:
        frames = [pcm16k[i : i + FRAME_SAMPLES] for i in range(0, len(pcm16k), FRAME_SAMPLES)]
        frames[-1] = np.pad(frames[-1], (0, FRAME_SAMPLES - len(frames[-1])))
        # frames go out on the sender's 20 ms clock; the first is sent within 20 ms
        onset = self.now()
        on_onset(onset)
        if self.drop == "mid_utterance" and self._drop_after is None:
            self._drop_after = len(frames) // 2
        for frame in frames:
            self._out.put_nowait(frame)
        end = onset + len(frames) * FRAME_S
        await asyncio.sleep(max(0.0, end - self.now()))
        while not self._out.empty() and self._ws.close_code is None:
            await asyncio.sleep(0.005)
        return self.now()  # the last speech frame is on the wire (or the line has gone)

    async def dtmf(self, digit: str) -> None:
        assert self._outbox is not None
        self._outbox.put([json.dumps({"type": "dtmf", "digit": digit})])

    def playing_until(self) -> float:
        return self._play_until

    def heard(self, pcm16k: np.ndarray) -> np.ndarray:
        return pcm16k


class GatewayLink:
    """A fake telephone gateway (`agent.transports.fakes`) between the customer and the runtime.

    The fake streams the customer's line at its wire rate and codec, plays the agent's audio
    out of its own jitter buffer in real time and echoes marks itself; this link watches its
    event log: `media` → agent audio arrived, `clear` (clear/killAudio/FLUSH_MEDIA) → cleared,
    socket closed → call over.
    """

    carries_progress = False

    def __init__(self, name: str, url: str, *, call_id: str, token: str, **options: Any) -> None:
        self.name = name
        self.gw: FakeGateway = FAKES[name](url, call_id=call_id, token=token, **options)
        self._sink: LinkSink | None = None
        self._watch: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self.gw.now()

    async def open(self, sink: LinkSink) -> None:
        self._sink = sink
        self.gw.listeners.append(self._on_gateway_event)
        await self.gw.connect()
        self._watch = asyncio.create_task(self._watch_closed())

    async def _watch_closed(self) -> None:
        await self.gw.closed.wait()
        assert self._sink is not None
        self._sink.on_closed()

    def _on_gateway_event(self, event: GatewayEvent) -> None:
        if self._sink is None:
            return
        if event.kind == "media":
            self._sink.on_agent_audio(event.t)
        elif event.kind == "clear":
            self._sink.on_clear(event.t)

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.gw.close()

    async def speak(self, pcm16k: np.ndarray, on_onset: Callable[[float], None]) -> float:
        first, done = self.gw.queue_speech(pcm16k)
        try:
            on_onset(await first)  # the first speech frame went on the wire
            return await done
        except asyncio.CancelledError:
            if self.gw.closed.is_set():
                return self.now()
            raise

    async def dtmf(self, digit: str) -> None:
        await self.gw.dtmf(digit)

    def playing_until(self) -> float:
        queued = self.gw.queued_samples
        if queued:
            return self.now() + queued / self.gw.out_rate
        if self.gw.played:
            return self.gw.played[-1][0] + FRAME_S
        return 0.0

    def heard(self, pcm16k: np.ndarray) -> np.ndarray:
        """The customer's speech as the runtime receives it: band-limited to the line (and μ-law)."""
        line = resample(np.asarray(pcm16k, dtype=np.int16), 16000, self.gw.wire_rate)
        if self.name == "twilio" or getattr(self.gw, "format", None) == "ulaw":
            line = ulaw_decode(ulaw_encode(line))
        return resample(line, self.gw.wire_rate, 16000) if self.gw.wire_rate != 16000 else line

    @property
    def played(self) -> list[tuple[int, np.ndarray]]:
        """The agent audio the gateway played, in runs of contiguous 20 ms ticks, at 16 kHz."""
        runs: list[tuple[float, list[np.ndarray]]] = []
        last = -1.0
        for t, frame in self.gw.played:
            if runs and t - last < 1.5 * FRAME_S:
                runs[-1][1].append(frame)
            else:
                runs.append((t, [frame]))
            last = t
        rate = self.gw.out_rate
        out = []
        for t, frames in runs:
            pcm = np.concatenate(frames)
            out.append((int(t * 16000), resample(pcm, rate, 16000) if rate != 16000 else pcm))
        return out


def make_link(transport: str, ws_base: str, call_id: str, token: str, *, line: str | Line = "continuous",
              drop: str | None = None, **options: Any) -> Link:
    """The link for a transport name (`native` or a key of FAKES) over a line (see module doc).

    `options` go to the fake gateway (e.g. `format="slin16"`, `plain=True` for Asterisk).
    """
    if transport == "native":
        start = {"type": "start", "call_id": call_id, "token": token, "sample_rate": 16000}
        return NativeLink(f"{ws_base}/ws/native", start, line=line, drop=drop)
    if transport not in FAKES:
        raise ValueError(f"unknown transport {transport!r}; choose from {', '.join(TRANSPORTS)}")
    return GatewayLink(transport, f"{ws_base}/ws/{transport}", call_id=call_id, token=token, line=line,
                       drop=drop, **options)
