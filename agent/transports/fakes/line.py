"""How the caller's line reaches the runtime: continuous, silence-suppressed, jittery, bursty.

Real lines are unkind. Asterisk without `transmit_silence`, Twilio with silence
suppression, jambonz or FreeSWITCH with VAD on, and a caller on hold send *no media at
all* while the caller is silent (before the first word, between utterances). A loaded
network delivers frames late and in bursts: it stalls, then hands over the backlog at
once. The fakes reproduce both, choosing by one option, `line=`:

- `continuous`: a 20 ms frame every 20 ms, silence included (the old behaviour).
- `suppressed`: frames only while the caller speaks; nothing in between.
- `jitter`: every frame up to 30 ms late, and now and then a stall of 3-8 frames whose
  frames then arrive together; order is kept, as TCP keeps it.
- `suppressed+jitter`: both.

A `Line` can also be built directly for other figures. `Network` turns a line's jitter
into release times (pure, seeded: the same seed gives the same bursts); `Outbox` sends
messages at those times. Early closes (`drop=`) are separate: see `DROPS`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

FRAME_S = 0.02
DROPS = ("before_start", "after_start", "mid_utterance")  # when a fake peer closes the socket early


@dataclass(frozen=True, slots=True)
class Line:
    """The figures of one line."""

    suppress_silence: bool = False  # send no media while the caller is silent
    jitter_ms: float = 0.0  # each frame late by up to this much (uniform)
    stall_chance: float = 0.0  # chance, per frame, that the network stalls here
    stall_frames: tuple[int, int] = (3, 8)  # a stall holds this many frames' time, then bursts them
    seed: int = 0

    @property
    def name(self) -> str:
        """The preset's name, or a description."""
        for name, line in LINES.items():
            if line == self:
                return name
        return f"line(suppress={self.suppress_silence}, jitter={self.jitter_ms}, stalls={self.stall_chance})"


JITTER = Line(jitter_ms=30.0, stall_chance=0.04, stall_frames=(3, 8))
LINES: dict[str, Line] = {
    "continuous": Line(),
    "suppressed": Line(suppress_silence=True),
    "jitter": JITTER,
    "suppressed+jitter": dataclasses.replace(JITTER, suppress_silence=True),
}


def line_for(spec: str | Line) -> Line:
    """A preset by name, or the line itself."""
    if isinstance(spec, Line):
        return spec
    if spec not in LINES:
        raise ValueError(f"unknown line {spec!r}; choose from {', '.join(LINES)}")
    return LINES[spec]


class Network:
    """Release times for messages handed over at time t: late, in bursts, never out of order."""

    def __init__(self, line: Line) -> None:
        self.line = line
        self._rng = random.Random(line.seed)
        self._stall_until = float("-inf")
        self._last = float("-inf")

    def release(self, t: float) -> float:
        """When a message handed to the network at `t` arrives."""
        line = self.line
        if t < self._stall_until:
            release = self._stall_until  # held by the stall: leaves with the burst
        elif line.stall_chance and self._rng.random() < line.stall_chance:
            frames = self._rng.randint(*line.stall_frames)
            self._stall_until = t + frames * FRAME_S
            release = self._stall_until
        else:
            release = t + (self._rng.uniform(0.0, line.jitter_ms) / 1000 if line.jitter_ms else 0.0)
        self._last = max(self._last, release)  # TCP: nothing overtakes what was sent before it
        return self._last


Send = Callable[[str | bytes], Awaitable[None]]


class Outbox:
    """Messages on their way over a line; each is sent at its release time, in order."""

    def __init__(self, line: Line, send: Send, clock: Callable[[], float] = time.monotonic) -> None:
        self.network = Network(line)
        self._send = send
        self._clock = clock
        self._queue: deque[tuple[float, str | bytes]] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.sent = 0

    def put(self, messages: list[str | bytes]) -> None:
        """Hand messages to the network now."""
        if not messages:
            return
        now = self._clock()
        for message in messages:
            self._queue.append((self.network.release(now), message))
        self._idle.clear()
        self._ready.set()

    async def drained(self) -> None:
        """Wait until everything handed over has been sent."""
        await self._idle.wait()

    async def run(self) -> None:
        """Send queued messages at their release times (run as a task)."""
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            at, message = self._queue[0]
            delay = at - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._queue.popleft()
            await self._send(message)
            self.sent += 1
