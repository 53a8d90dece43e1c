"""A simulated customer on the native protocol: speaks real audio in real time, listens back.

It streams 20 ms frames continuously (silence between its lines, as a phone line does),
plays the agent's audio on its own real-time clock, echoes marks when their audio has
played, honours `clear`, and measures from its side of the wire: end of its speech →
first agent audio byte (voice-to-voice), and its speech onset → `clear` (barge-in).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

from agent.audio.frames import FRAME_SAMPLES
from agent.demo.scenarios import Scenario

FRAME_S = 0.02
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
QUIET_S = 0.35  # agent audio gap that counts as "the agent has stopped talking"


def trim_speech(pcm: np.ndarray, threshold: int = 300) -> np.ndarray:
    """Cut leading/trailing near-silence so 'end of speech' is the real end of the words."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return pcm[:0]
    return pcm[loud[0] : loud[-1] + 1]


@dataclass
class CustomerLog:
    """Everything the customer saw and measured, in ms since the call connected."""

    events: list[dict[str, Any]] = field(default_factory=list)
    voice_to_voice_ms: list[int] = field(default_factory=list)
    barge_in_ms: list[int] = field(default_factory=list)
    sent: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (start sample, speech) on the customer track
    played: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (start sample, audio) on the agent track
    outcome: str | None = None
    call_id: str | None = None
    said: list[dict[str, Any]] = field(default_factory=list)


class SimulatedCustomer:
    """Plays one scenario against a running server."""

    def __init__(
        self,
        url: str,
        scenario: Scenario,
        speech: dict[str, np.ndarray],
        start: dict[str, Any],
        *,
        printer: Any = None,
        max_call_s: float = 120.0,
    ) -> None:
        self.url = url
        self.scenario = scenario
        self.speech = {text: trim_speech(pcm) for text, pcm in speech.items()}
        self.start_msg = start
        self.log = CustomerLog()
        self._printer = printer or (lambda event: None)
        self._max_call_s = max_call_s
        self._t0 = 0.0
        self._out: asyncio.Queue[np.ndarray] = asyncio.Queue()  # customer frames to send
        self._agent_utterances = 0
        self._last_agent_audio = 0.0
        self._play_until = 0.0  # time at which the agent audio received so far finishes playing
        self._pending_marks: list[tuple[float, str]] = []
        self._speech_end_at: float | None = None  # waiting for the agent's reply to this speech
        self._speech_onset_at: float | None = None
        self._barging = False
        self._done = asyncio.Event()

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _ms(self, t: float | None = None) -> int:
        return int((self._now() if t is None else t) * 1000)

    async def run(self) -> CustomerLog:
        """Connect, play the scenario, and return the log when the agent hangs up."""
        async with websockets.connect(self.url, max_size=2**22) as ws:
            self._t0 = time.monotonic()
            await ws.send(json.dumps(self.start_msg))
            tasks = [
                asyncio.create_task(self._sender(ws)),
                asyncio.create_task(self._receiver(ws)),
                asyncio.create_task(self._actor(ws)),
            ]
            try:
                await asyncio.wait_for(self._done.wait(), self._max_call_s)
            except asyncio.TimeoutError:
                self.log.events.append({"type": "timeout", "ms": self._ms()})
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        return self.log

    async def _sender(self, ws: Any) -> None:
        """Send one 20 ms frame every 20 ms: the customer's speech, or silence."""
        n = 0
        while True:
            due = n * FRAME_S
            delay = due - self._now()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = self._out.get_nowait() if not self._out.empty() else SILENCE
            await ws.send(frame.astype("<i2").tobytes())
            n += 1
            self._flush_marks(ws)

    def _flush_marks(self, ws: Any) -> None:
        now = self._now()
        while self._pending_marks and self._pending_marks[0][0] <= now:
            _, name = self._pending_marks.pop(0)
            asyncio.create_task(ws.send(json.dumps({"type": "mark", "name": name})))

    async def _receiver(self, ws: Any) -> None:
        async for message in ws:
            now = self._now()
            if isinstance(message, bytes):
                self._on_audio(np.frombuffer(message, dtype="<i2"), now)
                continue
            event = json.loads(message)
            event["ms"] = self._ms(now)
            kind = event.get("type")
            if kind == "agent":
                self._agent_utterances += 1
            elif kind == "clear":
                self._on_clear(now)
            elif kind == "mark":
                self._pending_marks.append((max(now, self._play_until), str(event.get("name"))))
                continue
            elif kind == "hangup":
                self.log.outcome = str(event.get("reason"))
            elif kind == "started":
                self.log.call_id = event.get("call_id")
            self.log.events.append(event)
            self._printer(event)
            if kind == "hangup":
                self._done.set()
                return
        self._done.set()

    def _on_audio(self, pcm: np.ndarray, now: float) -> None:
        if self._speech_end_at is not None:
            self.log.voice_to_voice_ms.append(int((now - self._speech_end_at) * 1000))
            self._printer({"type": "measured", "voice_to_voice_ms": self.log.voice_to_voice_ms[-1]})
            self._speech_end_at = None
        start = max(now, self._play_until)
        self.log.played.append((int(start * 16000), pcm))
        self._play_until = start + len(pcm) / 16000
        self._last_agent_audio = now

    def _on_clear(self, now: float) -> None:
        """Drop agent audio not yet played, as a gateway does on clear."""
        cut = int(now * 16000)
        kept: list[tuple[int, np.ndarray]] = []
        for start, pcm in self.log.played:
            if start >= cut:
                continue
            kept.append((start, pcm[: max(0, cut - start)]))
        self.log.played = kept
        self._play_until = now
        self._pending_marks.clear()  # cleared marks are not echoed as played
        if self._speech_onset_at is not None and self._barging:
            self.log.barge_in_ms.append(int((now - self._speech_onset_at) * 1000))
            self._barging = False

    async def _wait_agent_utterance(self, seen: int) -> None:
        while self._agent_utterances <= seen and not self._done.is_set():
            await asyncio.sleep(0.01)

    async def _wait_agent_quiet(self, since: float) -> None:
        """Wait until agent audio that started after `since` has played out and stopped."""
        while not self._done.is_set():
            now = self._now()
            started = self._last_agent_audio > since
            if started and now >= self._play_until + QUIET_S and now - self._last_agent_audio >= QUIET_S:
                return
            await asyncio.sleep(0.02)

    async def _actor(self, ws: Any) -> None:
        for step in self.scenario.steps:
            seen = self._agent_utterances
            since = self._now()
            await self._wait_agent_utterance(seen)
            if step.barge_after_ms is not None:
                while not self._done.is_set() and self._last_agent_audio <= since:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(step.barge_after_ms / 1000)
            else:
                await self._wait_agent_quiet(since)
                await asyncio.sleep(step.pause_ms / 1000)
            if self._done.is_set():
                return
            if step.dtmf is not None:
                await ws.send(json.dumps({"type": "dtmf", "digit": step.dtmf}))
                self.log.said.append({"dtmf": step.dtmf, "ms": self._ms()})
                self._printer({"type": "customer_dtmf", "digit": step.dtmf, "ms": self._ms()})
            if step.say is not None:
                await self._speak(step.say, barging=step.barge_after_ms is not None)

    async def _speak(self, text: str, *, barging: bool) -> None:
        pcm = self.speech[text]
        frames = [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]
        frames[-1] = np.pad(frames[-1], (0, FRAME_SAMPLES - len(frames[-1])))
        # frames go out on the sender's 20 ms clock; the first is sent within 20 ms
        onset = self._now()
        self._speech_onset_at = onset
        self._barging = barging
        self._speech_end_at = None
        for frame in frames:
            self._out.put_nowait(frame)
        self.log.sent.append((int(onset * 16000), pcm))
        self.log.said.append({"text": text, "ms": self._ms(onset)})
        self._printer({"type": "customer_says", "text": text, "ms": self._ms(onset)})
        end = onset + len(frames) * FRAME_S
        await asyncio.sleep(max(0.0, end - self._now()))
        while not self._out.empty():
            await asyncio.sleep(0.005)
        self._speech_end_at = self._now()  # the last speech frame is on the wire
