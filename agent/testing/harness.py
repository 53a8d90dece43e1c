"""A whole call in virtual time: the real session, script, rules NLU and guard; fake engines.

    async with CallHarness() as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        result = await call.ended()

The customer's microphone sends one 20 ms frame per 20 ms of loop time: scripted speech
(agent/testing/speech.py) when the customer talks, else silence, or nothing at all in
`media="suppressed"` mode (a gateway with silence suppression, a caller on hold). Run
the tests under `looptime` (`pytestmark = pytest.mark.looptime(noop_cycles=0)`): a
minute of call takes well under a second.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from agent.call.contracts import CallResult, CallSetup
from agent.call.ports import inline
from agent.call.recording import CallAudio
from agent.call.session import CallSession
from agent.call.speech_cache import SpeechCache
from agent.compliance.guard import ProhibitedRule, load_prohibited
from agent.config import CallConfig
from agent.demo.scenarios import demo_slots
from agent.dialogue.loader import load_scripts
from agent.dialogue.script import Script
from agent.nlu.factory import NluPipeline, build_nlu
from agent.testing.fakes import FakeEngines, FakeOutput, FakeRecorder, frames_of

PROMPTS = Path(__file__).resolve().parent.parent.parent / "prompts"
TODAY = date(2026, 11, 20)
SLOTS = {locale: demo_slots(locale, TODAY) for locale in ("en-US", "zh-CN")}  # the demo customer on TODAY
_SCRIPTS: dict[Path, dict[tuple[str, str], Script]] = {}
_NLU: dict[tuple[Path, str], NluPipeline] = {}

Media = Literal["continuous", "suppressed"]


def script_for(use_case: str, locale: str, prompts: Path = PROMPTS) -> Script:
    """A reviewed script from prompts/ (loaded once per process)."""
    if prompts not in _SCRIPTS:
        _SCRIPTS[prompts] = load_scripts(prompts)
    return _SCRIPTS[prompts][(use_case, locale)]


def rules_nlu(locale: str, prompts: Path = PROMPTS) -> NluPipeline:
    """The locale's rules NLU (no sentence encoder: no model), built once per process."""
    if (prompts, locale) not in _NLU:
        _NLU[(prompts, locale)] = build_nlu(locale, prompts, semantic=False)
    return _NLU[(prompts, locale)]


class CallHarness:
    """One call: the session under test, a scripted customer, fake engines, output and store."""

    def __init__(
        self,
        *,
        locale: str = "en-US",
        use_case: str = "repayment_reminder",
        slots: Mapping[str, str] | None = None,
        config: CallConfig | None = None,
        engines: FakeEngines | None = None,
        recorder: FakeRecorder | None = None,
        output: FakeOutput | None = None,
        prohibited: Sequence[ProhibitedRule] | None = None,
        media: Media = "continuous",
        burst_frames: int = 1,
        prompts: Path = PROMPTS,
        cache: SpeechCache | None = None,
        call_id: str = "call-1",
        screen: bool = False,
        jurisdiction: str = "",
    ) -> None:
        self.call_id = call_id
        self.screen, self.jurisdiction = screen, jurisdiction  # answer screening (outbound campaign calls)
        self.locale = locale
        self.config = config or CallConfig()
        self.engines = engines or FakeEngines()
        self.book = self.engines.book
        self.recorder = recorder or FakeRecorder()
        self.out = output or FakeOutput(markers=self.engines.markers)
        self.media = media
        self.burst_frames = burst_frames
        self.script = script_for(use_case, locale, prompts)
        self.slots = dict(slots if slots is not None else SLOTS[locale])
        self.prohibited = tuple(prohibited if prohibited is not None else load_prohibited(prompts, locale))
        self.nlu = rules_nlu(locale, prompts)
        self.metrics: list[tuple[str, float]] = []
        engines = self.engines

        async def synth(locale: str, text: str, priority: str, due: float | None) -> np.ndarray:
            return (await engines.synthesize(locale, text, priority=priority, due=due)).pcm16k

        self.cache = cache or SpeechCache(synth)
        self.session: CallSession | None = None
        self.recording: CallAudio | None = None  # set before entering to record the call
        self._mic: deque[tuple[np.ndarray, asyncio.Event | None]] = deque()
        self._tasks: list[asyncio.Task[Any]] = []
        self._run: asyncio.Task[CallResult] | None = None
        self.t0 = 0.0

    # --- life ------------------------------------------------------------------------

    def _build(self) -> CallSession:
        setup = CallSetup(self.call_id, self.locale, self.script, self.slots, TODAY, "native",
                          jurisdiction=self.jurisdiction, screen=self.screen)
        return CallSession(
            setup,
            engines=self.engines,
            cache=self.cache,
            nlu=self.nlu,
            recorder=self.recorder,
            out=self.out,
            config=self.config,
            prohibited=self.prohibited,
            on_metric=lambda name, value: self.metrics.append((name, value)),
            offload=inline,
            recording=self.recording,
        )

    async def __aenter__(self) -> CallHarness:
        loop = asyncio.get_running_loop()
        self.t0 = loop.time()
        self.session = self._build()
        self.out.on_mark = lambda name: self._session().mark_echoed(name, None)
        self._run = asyncio.create_task(self._session().run())
        self._tasks.append(asyncio.create_task(self._microphone()))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._run is not None and not self._run.done():
            self._session().peer_hung_up()
            await asyncio.wait_for(asyncio.shield(self._run), 30)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _session(self) -> CallSession:
        assert self.session is not None, "use the harness as `async with CallHarness() as call`"
        return self.session

    def now(self) -> float:
        """Seconds since the call started (loop time)."""
        return asyncio.get_running_loop().time() - self.t0

    async def _microphone(self) -> None:
        """One frame per 20 ms on an absolute clock; bursts of `burst_frames` when asked."""
        loop = asyncio.get_running_loop()
        tick, n = 0.02 * self.burst_frames, 0
        while True:
            n += 1
            await asyncio.sleep(max(0.0, self.t0 + n * tick - loop.time()))
            for _ in range(self.burst_frames):
                if self._mic:
                    frame, done = self._mic.popleft()
                    self._session().feed_audio(frame)
                    if done is not None:
                        done.set()
                elif self.media == "continuous":
                    self._session().feed_audio(np.zeros(320, dtype=np.int16))

    # --- the customer --------------------------------------------------------------------

    async def play(self, pcm: np.ndarray) -> float:
        """Send scripted audio through the microphone; returns the loop time its last frame went."""
        frames = frames_of(pcm)
        done = asyncio.Event()
        for i, frame in enumerate(frames):
            self._mic.append((frame, done if i == len(frames) - 1 else None))
        await done.wait()
        return asyncio.get_running_loop().time()

    async def say(self, text: str, ms: int | None = None, *, prob: float = 0.9) -> float:
        """Speak `text` (heard as exactly that) for `ms` (default 70 ms a character, at least 300)."""
        length = ms if ms is not None else max(300, 70 * len(text))
        return await self.play(self.book.line(text, length, prob=prob))

    async def silence(self, ms: int) -> float:
        """Send `ms` of silent frames (also in suppressed mode: a gateway that does send them)."""
        return await self.play(self.book.silence(ms))

    def press(self, digit: str) -> None:
        """Press a key now."""
        self._session().feed_dtmf(digit)

    def hang_up(self) -> None:
        self._session().peer_hung_up()

    # --- waiting ---------------------------------------------------------------------------

    async def until(self, check: Callable[[], object], within: float = 120.0, what: str = "") -> Any:
        """Wait (in loop time) until `check()` is truthy; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            value = check()
            if value:
                return value
            if loop.time() > deadline:
                raise TimeoutError(f"not within {within}s of call time: {what or check}")
            if self._run is not None and self._run.done() and not value:
                self._run.result()  # raise the session's own error, if any
            await asyncio.sleep(0.01)

    async def agent_said(self, fragment: str, within: float = 120.0) -> dict[str, Any]:
        """Wait for an agent utterance whose say_id starts with, or text contains, `fragment`."""

        def found() -> dict[str, Any] | None:
            return next(
                (e for e in self.out.of_type("agent")
                 if str(e["say_id"]).startswith(fragment) or fragment in str(e["text"])),
                None,
            )

        event: dict[str, Any] = await self.until(found, within, f"agent says {fragment!r}")
        return event

    async def agent_quiet(self, within: float = 120.0, quiet_s: float = 0.3) -> float:
        """Wait until the agent has stopped talking (nothing playing for `quiet_s`)."""
        loop = asyncio.get_running_loop()

        def quiet() -> bool:
            playing = self.out.playing_until()
            return playing > 0 and loop.time() >= playing + quiet_s

        await self.until(quiet, within, "the agent goes quiet")
        return loop.time()

    async def ended(self, within: float = 300.0) -> CallResult:
        """The call's result once it is over."""
        assert self._run is not None
        return await asyncio.wait_for(asyncio.shield(self._run), within)

    # --- views -------------------------------------------------------------------------------

    def agent_lines(self) -> list[str]:
        return [str(e["text"]) for e in self.out.of_type("agent")]

    def agent_ids(self) -> list[str]:
        return [str(e["say_id"]) for e in self.out.of_type("agent")]

    def customer_turns(self) -> list[dict[str, Any]]:
        return [e for e in self.out.of_type("transcript") if e.get("final")]
