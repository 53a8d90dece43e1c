"""What every fake gateway does: a real WebSocket client with a real-time mic and speaker.

The mic ticks every 20 ms on an absolute clock and hands one frame per tick to the line
(caller audio queued by `play()`; silence otherwise, or nothing at all on a
silence-suppressed line); the line (`line=`, see `fakes.line`) delivers it on time, late
or in a burst, always in order. The speaker drains what the runtime sent at real time,
20 ms a frame on the wall clock (after an event-loop stall it plays the frames due
meanwhile), like a jitter buffer, recording what was played and when; marks placed in that
queue are echoed when the audio before them has played. `drop=` makes the peer close the
socket early: before its start message, right after it, or halfway through the first
utterance. Subclasses supply the wire format: handshake, frame encoding, DTMF, commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from agent.audio.resample import resample
from agent.transports.fakes.line import DROPS, Line, Outbox, line_for
from agent.transports.fakes.playout import PlayoutQueue, sleep_until

log = logging.getLogger("agent.transports.fakes")

FRAME_MS = 20
TICK = FRAME_MS / 1000


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One thing the runtime sent (or did) as the gateway saw it, `t` seconds after connecting."""

    t: float
    kind: str  # media | mark | clear | hangup | answer | close | other
    data: Mapping[str, object] = field(default_factory=dict)


class FakeGateway:
    """Base fake gateway; use a protocol subclass as `async with FakeTwilio(url, ...) as gw:`."""

    protocol = "fake"
    subprotocols: tuple[str, ...] = ()
    wire_rate = 8000  # rate of the audio the fake sends (the caller's line)

    def __init__(
        self,
        url: str,
        *,
        call_id: str | None = None,
        token: str | None = None,
        secret: str | None = None,
        extra: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        line: str | Line = "continuous",
        drop: str | None = None,
    ) -> None:
        if drop is not None and drop not in DROPS:
            raise ValueError(f"unknown drop {drop!r}; choose from {', '.join(DROPS)}")
        self.url = url
        self.line = line_for(line)
        self.drop = drop
        self.call_id = call_id
        self.token = token
        self.secret = secret
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        self.out_rate = self.wire_rate  # rate of the audio the runtime sends back
        self.events: list[GatewayEvent] = []
        self.errors: list[str] = []  # shape violations in what the runtime sent
        self.messages: list[tuple[float, str | bytes]] = []  # every raw frame from the runtime
        self.played: list[tuple[float, np.ndarray]] = []  # (t, samples at out_rate) per tick
        self.sent_frames = 0  # media frames put on the line
        self.ticks = 0  # 20 ms mic ticks since the socket opened (frames sent or not)
        self.close_code: int | None = None
        self.subprotocol: str | None = None
        self._ws: ClientConnection | None = None
        self._t0 = 0.0
        self._mic: deque[np.ndarray] = deque()
        self._mic_done: deque[tuple[int, asyncio.Future[float]]] = deque()
        self._playout = PlayoutQueue()
        self._speaker_at = 0.0  # when the speaker's next 20 ms frame plays (seconds on `now()`)
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox: Outbox | None = None
        self._drop_at: int | None = None  # tick at which a mid-utterance drop closes the socket
        self._changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.listeners: list[Callable[[GatewayEvent], None]] = []  # called on every recorded event

    # ---- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> FakeGateway:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the socket, send the protocol's handshake and start the mic and speaker clocks."""
        self._ws = await connect(
            self.connect_url(),
            subprotocols=list(self.subprotocols) or None,  # type: ignore[arg-type]
            additional_headers=self.connect_headers(),
            compression=None,
            max_size=None,
        )
        self.subprotocol = self._ws.subprotocol
        self._t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        self._outbox = Outbox(self.line, self._wire_send)
        self._tasks = [loop.create_task(self._outbox.run())]
        if self.drop == "before_start":
            await self._abandon()
            return
        await self.handshake()
        if self.drop == "after_start":
            await self._abandon()
            return
        self._tasks += [loop.create_task(c) for c in (self._reader(), self._mic_loop(), self._speaker_loop())]

    async def close(self) -> None:
        """Stop the clocks, let what is already on the line arrive, close the socket.

        A caller hang-up unless `hangup()` ran first.
        """
        clocks, outbox = self._tasks[1:], self._tasks[:1]
        for task in clocks:
            task.cancel()
        for task in clocks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        if not self.closed.is_set():
            await self._drained()
        for task in outbox:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        if self._ws is not None:
            await self._ws.close()
        for _, fut in self._mic_done:
            if not fut.done():
                fut.cancel()
        self._note_closed()

    async def hangup(self) -> None:
        """The caller hangs up: the protocol's goodbye (if any), then the socket closes."""
        with contextlib.suppress(ConnectionClosed):
            await self.send_hangup()
            await self._drained()
        await self.close()

    async def _abandon(self) -> None:
        """The peer goes away early: what is on the line arrives, then the socket closes (1001)."""
        for _, fut in self._mic_done:
            if not fut.done():
                fut.cancel()  # speech that will never be sent
        await self._drained()
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.close(1001, "going away")
        if len(self._tasks) == 1:  # no reader yet to note the close
            self._note_closed()

    async def _wire_send(self, message: str | bytes) -> None:
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(message)

    async def _drained(self, timeout: float = 2.0) -> None:
        if self._outbox is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.drained(), timeout)

    # ---- caller actions ------------------------------------------------------------

    async def play(self, pcm16k: np.ndarray, wait: bool = True) -> float:
        """Queue caller speech (16 kHz int16) on the line; returns when its first frame was sent."""
        first, done = self.queue_speech(pcm16k)
        t_first = await first
        if wait:
            await done
        return t_first

    def queue_speech(self, pcm16k: np.ndarray) -> tuple[asyncio.Future[float], asyncio.Future[float]]:
        """Queue caller speech; returns futures of the send times of its first and last frames."""
        loop = asyncio.get_running_loop()
        first = loop.create_future()
        done = loop.create_future()
        pcm = resample(np.asarray(pcm16k, dtype=np.int16), 16000, self.wire_rate)
        n = self.wire_rate * FRAME_MS // 1000
        padded = np.zeros(-(-len(pcm) // n) * n, dtype=np.int16)
        padded[: len(pcm)] = pcm
        if not len(padded):
            first.set_result(self.now())
            done.set_result(self.now())
            return first, done
        start_index = self.ticks + len(self._mic)  # the tick that will take its first frame
        frames = list(padded.reshape(-1, n))
        self._mic_done.append((start_index, first))
        self._mic_done.append((start_index + len(frames) - 1, done))
        if self.drop == "mid_utterance" and self._drop_at is None:
            self._drop_at = start_index + len(frames) // 2
        self._mic.extend(frames)
        return first, done

    async def dtmf(self, digit: str) -> None:
        """The caller presses a key."""
        await self._send(self.dtmf_message(digit))

    async def silence(self, seconds: float) -> None:
        """Let the line run silent (silence frames on a continuous line, nothing on a suppressed one)."""
        await asyncio.sleep(seconds)

    # ---- observations --------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the socket opened (the clock of `events` and `played`)."""
        return time.monotonic() - self._t0

    def received_audio(self, rate: int = 16000) -> np.ndarray:
        """Everything the caller heard, concatenated (gaps removed), resampled to `rate`."""
        if not self.played:
            return np.zeros(0, dtype=np.int16)
        pcm = np.concatenate([frame for _, frame in self.played])
        return resample(pcm, self.out_rate, rate) if rate != self.out_rate else pcm

    def of_kind(self, kind: str) -> list[GatewayEvent]:
        """Events of one kind, in order."""
        return [e for e in self.events if e.kind == kind]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> GatewayEvent:
        """Wait until `count` events of `kind` have arrived; returns the last of them."""
        deadline = time.monotonic() + timeout
        while len(self.of_kind(kind)) < count:
            if self.closed.is_set() and kind != "close":
                raise ConnectionError(f"{self.protocol}: socket closed while waiting for {kind}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.protocol}: no {kind} event #{count} within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
        return self.of_kind(kind)[count - 1]

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Wait for the runtime to close the socket; returns the close code."""
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    @property
    def queued_samples(self) -> int:
        """Runtime audio buffered and not yet played."""
        return self._playout.samples

    # ---- for subclasses ------------------------------------------------------------

    def connect_url(self) -> str:
        """URL to dial (subclasses may add query parameters)."""
        return self.url

    def connect_headers(self) -> dict[str, str]:
        """Headers of the upgrade request."""
        return dict(self.headers)

    async def handshake(self) -> None:
        """Send what the gateway sends first."""

    def frame_messages(self, pcm: np.ndarray, index: int) -> list[str | bytes]:
        """Encode one 20 ms caller frame at `wire_rate`."""
        raise NotImplementedError

    def dtmf_message(self, digit: str) -> str | bytes:
        """The wire message for a key press."""
        raise NotImplementedError

    async def send_hangup(self) -> None:
        """What the gateway sends when the caller hangs up (default: nothing, the socket closes)."""

    async def on_text(self, text: str) -> None:
        """Handle a text frame from the runtime."""
        self.error(f"unexpected text frame {text[:80]!r}")

    async def on_binary(self, data: bytes) -> None:
        """Handle a binary frame from the runtime."""
        self.error(f"unexpected binary frame of {len(data)} bytes")

    async def mark_played(self, name: str) -> None:
        """Echo a mark whose audio has played."""

    async def after_tick(self) -> None:
        """Hook run after each speaker tick (flow control)."""

    def record(self, kind: str, **data: object) -> None:
        """Log an event from the runtime."""
        event = GatewayEvent(self.now(), kind, data)
        self.events.append(event)
        self._changed.set()
        for listener in list(self.listeners):
            listener(event)

    def error(self, message: str) -> None:
        """Note a protocol violation by the runtime."""
        log.warning("%s fake: %s", self.protocol, message)
        self.errors.append(message)
        self._changed.set()

    def enqueue_audio(self, pcm: np.ndarray) -> None:
        """Queue runtime audio (at `out_rate`) for playout."""
        if self._playout.samples == 0:  # the speaker was silent: this audio starts now, never earlier
            self._speaker_at = max(self._speaker_at, self.now())
        self._playout.audio(pcm)

    def enqueue_mark(self, name: str) -> None:
        """Queue a mark behind the audio queued so far."""
        self._playout.mark(name)

    def drop_queue(self) -> list[str]:
        """Drop queued audio (clear/kill/flush); returns the names of the marks dropped with it."""
        return self._playout.drop()

    def drop_marks(self) -> None:
        """Forget queued marks, keep audio."""
        self._playout.drop_marks()

    async def _send(self, message: str | bytes) -> None:
        """Put a message on the line (it arrives when the line delivers it, in order)."""
        if self._outbox is not None:
            self._outbox.put([message])
        elif self._ws is not None:
            await self._ws.send(message)

    # ---- clocks --------------------------------------------------------------------

    async def _reader(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                self.messages.append((self.now(), message))
                if isinstance(message, str):
                    await self.on_text(message)
                else:
                    await self.on_binary(message)
        except ConnectionClosed:
            pass
        self._note_closed()  # the socket closed under us (when close() cancels us, it notes it)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()

    def _note_closed(self) -> None:
        if not self.closed.is_set():
            self.close_code = self._ws.close_code if self._ws is not None else None
            self.record("close", code=self.close_code)
            self.closed.set()

    async def _mic_loop(self) -> None:
        n = self.wire_rate * FRAME_MS // 1000
        silence = None if self.line.suppress_silence else np.zeros(n, dtype=np.int16)
        assert self._outbox is not None
        while True:
            frame = self._mic.popleft() if self._mic else silence
            index, self.ticks = self.ticks, self.ticks + 1
            t = self.now()
            if self._drop_at is not None and index >= self._drop_at:
                await self._abandon()  # the reader sees the close and stops the clocks
                return
            if frame is not None:
                self._outbox.put(self.frame_messages(frame, index))
                self.sent_frames += 1
            while self._mic_done and self._mic_done[0][0] <= index:
                _, fut = self._mic_done.popleft()
                if not fut.done():
                    fut.set_result(t)
            await sleep_until(self._t0 + self.ticks * TICK)

    async def _speaker_loop(self) -> None:
        ticks = 0
        while True:
            await self._play_due(self.now())
            await self.after_tick()
            ticks += 1
            await sleep_until(self._t0 + ticks * TICK)

    async def _play_due(self, now: float) -> None:
        """Play every 20 ms frame whose time has come by `now`, echoing marks as their audio ends.

        A phone's speaker keeps real time however late this loop runs: when the event loop
        stalls (a loaded machine), the frames due meanwhile are played on its return, stamped
        with the time they played, so the caller hears the agent at the pace the runtime sends
        it. Audio never plays before it arrived (see `enqueue_audio`).
        """
        n = self.out_rate * FRAME_MS // 1000
        while True:
            for name in self._playout.marks_due():
                await self.mark_played(name)
            if self._speaker_at > now:
                return
            frame = self._playout.take(n)
            if frame is None:
                self._speaker_at = now  # nothing queued: silence plays up to now
                return
            self.played.append((self._speaker_at, frame))
            self._speaker_at += TICK
