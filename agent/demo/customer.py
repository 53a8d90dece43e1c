"""A simulated customer: speaks real audio in real time over a link, listens back.

The link (agent/demo/links.py) is the native protocol or a fake telephone gateway. Either
way the customer's line carries 20 ms frames continuously (silence between its lines, as a
phone line does), the agent's audio is played on a real-time clock, marks are echoed when
their audio has played and `clear` is honoured. The customer measures from its side of the
wire: end of its speech → first agent audio frame (voice-to-voice), and its speech onset →
`clear`/`killAudio`/`FLUSH_MEDIA` (barge-in).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.demo.links import Link
from agent.demo.scenarios import Scenario

QUIET_S = 0.35  # agent audio gap that counts as "the agent has stopped talking"

CUSTOMER_VOICES = {
    "f": ("zf_xiaobei", "zf_xiaoxiao", "zf_xiaoyi", "zf_xiaoni"),
    "m": ("zm_yunjian", "zm_yunxi", "zm_yunxia", "zm_yunyang"),
}
"""Kokoro Mandarin voices by sex, best round-trip CER first (docs/models.md: every 3rd sentence,
zm_yunjian 0.075, zm_yunxi 0.096, zm_yunxia 0.125, zm_yunyang 0.129; zf_xiaobei 0.071,
zf_xiaoxiao 0.085, zf_xiaoyi 0.092, zf_xiaoni 0.398)."""


def customer_voice(agent_voice: str, available: Sequence[str]) -> str | None:
    """A voice of the other sex from the agent's (male for a female agent), so two people are heard."""
    other = "m" if agent_voice.startswith("zf_") else "f"
    return next((v for v in CUSTOMER_VOICES[other] if v in available and v != agent_voice), None)


def speaking_voices(engines: Any, locale: str) -> dict[str, str | None]:
    """Who speaks on each side: the agent's voice and the customer's (None: the agent's own synthesiser).

    For zh-CN Kokoro the customer is another voice of the same loaded model, of the other sex;
    a synthesiser without voices (Piper, espeak-ng, a test double) speaks the customer's lines too."""
    tts: Any = engines.locales[locale].tts if hasattr(engines, "locales") else None
    agent = getattr(tts, "voice", None) if tts is not None else None
    customer = customer_voice(tts.voice, tts.voices) if hasattr(tts, "with_voice") else None
    return {"agent": agent if isinstance(agent, str) else None, "customer": customer}


async def customer_speech(engines: Any, locale: str, lines: Sequence[str]) -> dict[str, np.ndarray]:
    """The customer's lines as 16 kHz speech, in the customer's voice of `speaking_voices`."""
    tts: Any = engines.locales[locale].tts if hasattr(engines, "locales") else None
    voice = speaking_voices(engines, locale)["customer"]
    out: dict[str, np.ndarray] = {}
    if voice is None:
        for text in dict.fromkeys(lines):
            out[text] = (await engines.synthesize(locale, text, priority="high")).pcm16k
        return out
    speaker = tts.with_voice(voice)
    for text in dict.fromkeys(lines):
        out[text] = (await engines.pool.run(speaker.synthesize, text, priority="high")).pcm16k
    return out


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
    sent: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (start sample, speech): customer
    played: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (start sample, audio): agent
    outcome: str | None = None
    call_id: str | None = None
    said: list[dict[str, Any]] = field(default_factory=list)
    transport: str = "native"
    record: dict[str, Any] | None = None  # GET /v1/calls/{call_id} after the call (gateways)
    gateway_errors: list[str] = field(default_factory=list)  # protocol violations the fake saw
    clears_ms: list[int] = field(default_factory=list)  # when the runtime took back agent audio


class SimulatedCustomer:
    """Plays one scenario against a running server through a link."""

    def __init__(
        self,
        link: Link,
        scenario: Scenario,
        speech: dict[str, np.ndarray],
        *,
        printer: Any = None,
        max_call_s: float = 120.0,
    ) -> None:
        self.link = link
        self.scenario = scenario
        self.speech = {text: trim_speech(pcm) for text, pcm in speech.items()}
        self.log = CustomerLog(transport=link.name)
        self._printer = printer or (lambda event: None)
        self._max_call_s = max_call_s
        self._agent_utterances = 0
        self._last_agent_audio = 0.0
        self._speech_end_at: float | None = None  # waiting for the agent's reply to this speech
        self._speech_onset_at: float | None = None
        self._barging = False
        self._done = asyncio.Event()

    def _now(self) -> float:
        return self.link.now()

    def _ms(self, t: float | None = None) -> int:
        return int((self._now() if t is None else t) * 1000)

    async def run(self) -> CustomerLog:
        """Connect, play the scenario, and return the log when the call ends."""
        await self.link.open(self)
        actor = asyncio.create_task(self._actor())
        try:
            await asyncio.wait_for(self._done.wait(), self._max_call_s)
        except TimeoutError:
            self.log.events.append({"type": "timeout", "ms": self._ms()})
        finally:
            actor.cancel()
            await asyncio.gather(actor, return_exceptions=True)
            self.log.played = self.link.played
            await self.link.close()
            self.log.gateway_errors = list(getattr(getattr(self.link, "gw", None), "errors", []))
        return self.log

    # ---- what the link reports -------------------------------------------------------

    def on_agent_audio(self, t: float) -> None:
        """Agent audio reached the customer's side of the wire at `t`."""
        if not self.link.carries_progress and (
            self._agent_utterances == 0 or t - self._last_agent_audio >= QUIET_S
        ):
            self._agent_utterances += 1  # no call-progress JSON: a new burst of audio is a new utterance
        if self._speech_end_at is not None and t >= self._speech_end_at:
            self.log.voice_to_voice_ms.append(int((t - self._speech_end_at) * 1000))
            self._printer({"type": "measured", "voice_to_voice_ms": self.log.voice_to_voice_ms[-1]})
            self._speech_end_at = None
        self._last_agent_audio = max(self._last_agent_audio, t)

    def on_clear(self, t: float) -> None:
        """The runtime took back the agent audio not yet played (clear/killAudio/FLUSH_MEDIA)."""
        self.log.clears_ms.append(self._ms(t))
        if self._speech_onset_at is not None and self._barging:
            self.log.barge_in_ms.append(int((t - self._speech_onset_at) * 1000))
            self._barging = False
            if not self.link.carries_progress:
                self._printer({"type": "measured", "barge_in_ms": self.log.barge_in_ms[-1]})

    def on_event(self, event: dict[str, Any]) -> None:
        """A call-progress event (native protocol only)."""
        kind = event.get("type")
        if kind == "agent":
            self._agent_utterances += 1
        elif kind == "hangup":
            self.log.outcome = str(event.get("reason"))
        elif kind == "started":
            self.log.call_id = event.get("call_id")
        self.log.events.append(event)
        self._printer(event)
        if kind == "hangup":
            self._done.set()

    def on_closed(self) -> None:
        """The call is over (hang-up message, or the socket closed)."""
        self._done.set()

    # ---- the scenario ---------------------------------------------------------------

    async def _wait_agent_utterance(self, seen: int) -> None:
        while self._agent_utterances <= seen and not self._done.is_set():
            await asyncio.sleep(0.01)

    async def _wait_agent_quiet(self, since: float) -> None:
        """Wait until agent audio that started after `since` has played out and stopped."""
        while not self._done.is_set():
            now = self._now()
            started = self._last_agent_audio > since
            if (started and now >= self.link.playing_until() + QUIET_S
                    and now - self._last_agent_audio >= QUIET_S):
                return
            await asyncio.sleep(0.02)

    async def _actor(self) -> None:
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
                await self.link.dtmf(step.dtmf)
                self.log.said.append({"dtmf": step.dtmf, "ms": self._ms()})
                self._printer({"type": "customer_dtmf", "digit": step.dtmf, "ms": self._ms()})
            if step.say is not None:
                await self._speak(step.say, barging=step.barge_after_ms is not None)

    async def _speak(self, text: str, *, barging: bool) -> None:
        pcm = self.speech[text]

        def onset(t: float) -> None:
            self._speech_onset_at = t
            self._barging = barging
            self._speech_end_at = None
            self.log.sent.append((int(t * 16000), self.link.heard(pcm)))
            self.log.said.append({"text": text, "ms": self._ms(t)})
            self._printer({"type": "customer_says", "text": text, "ms": self._ms(t)})

        end = await self.link.speak(pcm, onset)
        self._speech_end_at = end  # the last speech frame is on the wire
