"""Agent audio out: 20 ms frames paced at real time, stoppable at once on barge-in.

The playout sends each frame when its play time is `send_ahead_ms` away, so the gateway
never holds more than that: a buffering gateway gets a lead (call.gateway_lead_ms) that rides
over stalls of the event loop or of the process, and its `clear` takes the lead back. An
utterance queued behind another goes on from where the other's audio ends, without waiting
for its tail to play, so the lead holds across the join. It remembers, per utterance, when
its first frame plays and how much has played, so a barge-in knows how much of the utterance
the customer heard (the one still playing at the gateway, which may be the one before).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from agent.audio.frames import FRAME_SAMPLES

FRAME_S = 0.02

SendFrame = Callable[[np.ndarray], Awaitable[None]]


@dataclass(slots=True)
class Utterance:
    """One agent utterance being played: its id and its sentences' audio as they arrive."""

    say_id: str
    interruptible: bool
    chunks: asyncio.Queue[np.ndarray | None] = field(default_factory=asyncio.Queue)
    total_ms: int = 0
    played_ms: int = 0
    first_frame_at: float | None = None  # loop time the first frame plays (sent then, or behind another)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set when the first frame is sent
    stopped: bool = False
    labels: list[str] = field(default_factory=list)  # what each chunk says, in order (where a gap was)

    def add(self, pcm: np.ndarray, label: str = "") -> None:
        """Append a sentence's (or a unit's) audio (16 kHz PCM16); `label` names it in gap reports."""
        self.total_ms += len(pcm) * 1000 // 16000
        self.labels.append(label)
        self.chunks.put_nowait(pcm)

    def close(self) -> None:
        """No more audio will be added."""
        self.chunks.put_nowait(None)


class Playout:
    """Plays utterances one after another on a real-time clock."""

    def __init__(
        self,
        send: SendFrame,
        *,
        send_ahead_ms: int = 60,
        max_talk_s: float = 30.0,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._send = send
        self._ahead = send_ahead_ms / 1000
        self._max_talk_frames = int(max_talk_s / FRAME_S)
        self._queue: asyncio.Queue[Utterance] = asyncio.Queue()
        self.current: Utterance | None = None
        self._resumed = asyncio.Event()  # clear while the gateway asked us to pause (XOFF)
        self._resumed.set()
        self._on_idle = on_idle
        self._idle = asyncio.Event()
        self._idle.set()
        self.last_end_at: float | None = None  # loop time at which the last audio finished playing
        self.truncated = 0  # utterances cut at the max-talk cap
        self.underruns = 0  # times the next frame was not ready when it was due
        self.turn_gap_ms = 0  # longest silence inside the agent turn playing now (playout ran dry)
        self.turn_say_ids: list[str] = []  # utterances played in this agent turn
        self.turn_gap_at = ""  # where it was: "say_id: 'before' | 'after'" (a join) or "inside"
        self._turn_end: float | None = None  # loop time the turn's audio so far ends playing
        self._last_label = ""  # the label of the chunk whose frame went out last
        self._tail: Utterance | None = None  # the utterance before `current`, its tail maybe still playing
        self._tail_end: float = 0.0  # loop time the tail's audio ends: the next utterance goes on from it
        self._queued = asyncio.Event()  # set by play(): wakes a playout waiting for a tail to play

    @property
    def paused(self) -> bool:
        """Gateway flow control: True between XOFF and XON."""
        return not self._resumed.is_set()

    @paused.setter
    def paused(self, value: bool) -> None:
        if value:
            self._resumed.clear()
        else:
            self._resumed.set()

    @property
    def speaking(self) -> bool:
        """True while an utterance is playing or queued."""
        return not self._idle.is_set()

    def play(self, utt: Utterance) -> None:
        """Queue an utterance; its audio may still be arriving."""
        self._idle.clear()
        self._queue.put_nowait(utt)
        self._queued.set()

    async def wait_idle(self) -> None:
        """Wait until every queued utterance has played (or been stopped)."""
        await self._idle.wait()

    def playing(self, now: float) -> Utterance | None:
        """The utterance the customer hears at loop time `now` (or the one about to be heard)."""
        tail = self._tail
        if tail is not None and tail.first_frame_at is not None:
            current = self.current
            starts = current.first_frame_at if current is not None else None
            if (starts if starts is not None else self._tail_end) > now:
                return tail
        return self.current

    def stop(self) -> Utterance | None:
        """Barge-in: drop the current and queued utterances at once; return the one cut off.

        That is the one still playing: the utterance before the current one while its tail
        is in the gateway's buffer (the clear takes it back), the current one then unheard.
        """
        now = asyncio.get_running_loop().time()
        cut = self.playing(now)
        self._turn_end = None  # what follows a barge-in is a new agent turn
        self._tail = None
        if cut is not None and cut is not self.current:
            cut.stopped = True
            cut.played_ms = self.heard_ms(cut, now)
        if self.current is not None:
            self.current.stopped = True
            self.current.chunks.put_nowait(None)  # wake a playout waiting for this utterance's audio
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            queued.stopped = True
            queued.done.set()
        self._queued.set()  # wake a playout waiting for a tail to play
        return cut

    async def run(self) -> None:
        """The playout loop; runs for the life of the call."""
        loop = asyncio.get_running_loop()
        while True:
            utt = await self._queue.get()
            self.current = utt
            if not utt.stopped:
                await self._play(utt, loop)
            utt.done.set()
            utt.started.set()
            self.current = None
            if self._queue.empty():
                self._idle.set()
                if self._on_idle is not None:
                    self._on_idle()
                self.turn_gap_ms, self.turn_say_ids, self._turn_end, self.turn_gap_at = 0, [], None, ""
                self._last_label = ""
                self._tail = None

    async def _play(self, utt: Utterance, loop: asyncio.AbstractEventLoop) -> None:
        # loop time at which the next frame is due to play (None: start at once)
        clock = self._tail_end if self._tail is not None else None
        frames_sent = 0
        index = -1
        while not utt.stopped:
            chunk = await utt.chunks.get()
            if chunk is None or utt.stopped:
                break
            index += 1
            label = utt.labels[index] if index < len(utt.labels) else ""
            for start in range(0, len(chunk), FRAME_SAMPLES):
                if utt.stopped:
                    break
                if frames_sent >= self._max_talk_frames:
                    self.truncated += 1
                    utt.stopped = True
                    break
                frame = chunk[start : start + FRAME_SAMPLES]
                if len(frame) < FRAME_SAMPLES:
                    frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
                now = loop.time()
                clock_reset = clock is not None and clock < now - FRAME_S
                if clock is None or clock < now:
                    clock = now  # (re)start the clock after an underrun or at the first frame
                wait = clock - self._ahead - now
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.paused:
                    await self._wait_resumed(utt)
                    clock = None if clock is None else max(clock, loop.time())
                if utt.stopped:
                    break
                if utt.first_frame_at is None:
                    utt.first_frame_at = max(clock, loop.time())
                    utt.started.set()
                    self.turn_say_ids.append(utt.say_id)
                elif clock_reset:
                    self.underruns += 1
                if self._turn_end is not None and clock - self._turn_end > FRAME_S / 2:
                    gap = int((clock - self._turn_end) * 1000)
                    if gap > self.turn_gap_ms:
                        self.turn_gap_ms = gap
                        self.turn_gap_at = (f"{utt.say_id}: {self._last_label!r} | {label!r}" if start == 0
                                            else f"{utt.say_id}: inside {label!r}")
                await self._send(frame)
                self._last_label = label
                frames_sent += 1
                clock += FRAME_S
                self._turn_end = clock
                utt.played_ms = int(max(0.0, loop.time() - utt.first_frame_at) * 1000)
        if clock is not None:
            end = clock if not utt.stopped else loop.time()
            self.last_end_at = end
            self._tail = None
            if not utt.stopped:
                self._queued.clear()
                # let the tail actually play before "done", unless another utterance comes meanwhile
                if self._queue.empty() and end > loop.time():  # woken by play() or stop(), or it played
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._queued.wait(), end - loop.time())
                if not self._queue.empty() and end > loop.time() and not utt.stopped:
                    self._tail, self._tail_end = utt, end  # the next goes on from here: the lead holds
                    return
        if utt.first_frame_at is not None:
            utt.played_ms = min(utt.total_ms, int((loop.time() - utt.first_frame_at) * 1000))

    async def _wait_resumed(self, utt: Utterance) -> None:
        """Wait for XON, or for the utterance to be stopped (checked every frame, no busy loop)."""
        while self.paused and not utt.stopped:
            try:
                await asyncio.wait_for(self._resumed.wait(), FRAME_S * 5)
            except TimeoutError:
                continue

    def heard_ms(self, utt: Utterance, now: float) -> int:
        """How much of `utt` the customer has heard by loop time `now`."""
        if utt.first_frame_at is None:
            return 0
        return max(0, min(utt.total_ms, int((now - utt.first_frame_at) * 1000)))
