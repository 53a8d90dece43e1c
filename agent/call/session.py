"""One call's shell: the queue, the tasks, playout, marks, timers and ordered store writes.

Every decision is the pure CallPolicy's (policy.py); the shell feeds it one item at a time and
runs its commands in order: an opt-out is committed before it is confirmed, and the call ends
only after the goodbye has played (an opt-out heard during the goodbye still acts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import numpy as np

from agent.audio.frames import INTERNAL_RATE
from agent.call import commands as cmd
from agent.call import progress as pg
from agent.call.contracts import CallResult, CallSetup
from agent.call.listener import Listener
from agent.call.policy import CallPolicy
from agent.call.ports import CallEngines, CallOutput, Nlu, Offload
from agent.call.recorder import CallRecorder
from agent.call.recording import CallAudio
from agent.call.signals import (
    AgentQuiet,
    AnswerFrame,
    Cut,
    HeardTurn,
    Inbound,
    ListenerSignal,
    PeerHungUp,
    StoreFailed,
)
from agent.call.speech_cache import SpeechCache
from agent.call.tasks import OwnedTasks, Timers
from agent.call.turns import TurnPolicy
from agent.call.voice import AgentVoice
from agent.call.writes import OrderedWrites
from agent.campaign.amd import tone_frames
from agent.compliance.guard import ProhibitedRule
from agent.config import CallConfig
from agent.dialogue.events import KeyPress
from agent.store.errors import StoreUnavailable

log = logging.getLogger(__name__)


class CallSession:
    """Runs one call from its first agent word to hang-up."""

    def __init__(
        self,
        setup: CallSetup,
        *,
        engines: CallEngines,
        cache: SpeechCache,
        nlu: Nlu,
        recorder: CallRecorder,
        out: CallOutput,
        config: CallConfig,
        prohibited: Sequence[ProhibitedRule] = (),
        on_metric: Callable[[str, float], None] | None = None,
        offload: Offload = asyncio.to_thread,
        recording: CallAudio | None = None,
    ) -> None:
        self.setup, self.result, self._recording = setup, CallResult(setup.call_id), recording
        self._nlu, self._rec, self._out, self._offload = nlu, recorder, out, offload
        self._metric = on_metric or (lambda name, value: None)
        self._loop = loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        self._queue: asyncio.Queue[Inbound] = asyncio.Queue()
        self._ended = asyncio.Event()
        self._tasks = OwnedTasks()
        self._timers = Timers(self._queue.put_nowait)
        self._policy = CallPolicy(setup, config, prohibited)
        self._voice = AgentVoice(out, cache, setup.locale, config, self._tasks, on_quiet=self._quiet,
                                 on_timed=self._timed, tap=recording.agent if recording else None,
                                 fixed_slots=setup.fixed_slots)
        self._writes = OrderedWrites(self._tasks, lambda exc: self._queue.put_nowait(StoreFailed(str(exc))))
        self._listener = Listener(
            engines.new_vad_stream(enter=config.vad_enter, leave=config.vad_exit), engines, self._signal,
            TurnPolicy.from_config(config), locale=setup.locale, partial_every_ms=config.partial_every_ms,
            media_gap_ms=config.media_gap_ms, tap=recording.customer if recording else None,
            hint=lambda: self._policy.hint, on_metric=self._metric, busy=engines.busy,
            speaking=self._voice.speaking, is_complete=self._is_complete, on_frame=self._frame_heard,
        )

    def feed_audio(self, pcm16k: np.ndarray) -> None:
        """Customer audio (16 kHz PCM16) as it arrives."""
        if not self._ended.is_set():
            self._listener.feed(pcm16k)

    def feed_dtmf(self, digit: str) -> None:
        """A key press; the call's stored transcript shows it where it came (`<dtmf 1>`), like a turn."""
        if not self._ended.is_set():
            call_id, rec, at_ms = self.setup.call_id, self._rec, self._stream_ms()
            self._writes.submit(lambda: rec.record_turn(call_id, "customer", f"<dtmf {digit}>", None, at_ms))
        self._signal(KeyPress(digit))

    def mark_echoed(self, name: str, cleared: bool | None) -> None:
        """The gateway reached a mark we placed after an utterance."""
        self._voice.mark_echoed(name)

    def set_paused(self, paused: bool) -> None:
        """Gateway flow control."""
        self._voice.playout.paused = paused

    def peer_hung_up(self) -> None:
        """The customer or gateway ended the call."""
        self._queue.put_nowait(PeerHungUp())

    def end_by_operator(self) -> None:
        """An operator ended the call from the console: it stops now, recorded as ended_by_operator."""
        if not self._ended.is_set():
            self.result.outcome = "ended_by_operator"
            self._queue.put_nowait(PeerHungUp())

    @property
    def ended(self) -> asyncio.Event:
        """Set once the call is over."""
        return self._ended

    def _frame_heard(self, frame: np.ndarray, speech: bool) -> None:
        """While the answer is screened, each frame's evidence goes to the policy (in order)."""
        if self._policy.screening and not self._ended.is_set():
            tones = tone_frames(frame, INTERNAL_RATE)
            self._queue.put_nowait(AnswerFrame(speech, tones[0] if tones else None))

    def _signal(self, item: ListenerSignal | KeyPress) -> None:
        """Act at once on what cannot wait (barge-in), then queue the item in order."""
        for urgent in self._policy.urgent(item):
            self._interrupt(urgent)
        self._queue.put_nowait(item)

    async def run(self) -> CallResult:
        """Play the call to its end; returns the result (also on errors)."""
        self._tasks.spawn(self._voice.run())
        try:
            await self._rec.record_event(self.setup.call_id, "call_started", self.setup.describe())
            await self._guarded(self._policy.start())
            while not self._ended.is_set():
                item = await self._queue.get()
                if isinstance(item, PeerHungUp):
                    self.result.outcome = self._policy.hung_up(self.result.outcome)
                    break
                await self._guarded(await self._handle(item))
        except StoreUnavailable:
            log.error("call %s not started: the store cannot be written", self.setup.call_id)
            self.result.outcome = "store_unavailable"
        except Exception:
            log.exception("call %s failed; ending it", self.setup.call_id)
            self.result.outcome = "error"
        finally:
            self._ended.set()
            self._timers.close()
            self._voice.playout.stop()
            await self._listener.close()
            await self._tasks.close()
            self._voice.report(self.result)
            await self._finish()
        return self.result

    async def _handle(self, item: Inbound) -> list[cmd.Command]:
        if not isinstance(item, HeardTurn) or self._policy.screens(item):
            return self._policy.on(item)
        text, started, expected = self._policy.turn_text(item), self._loop.time(), self._policy.expected
        classify, today = self._nlu.classify, self.setup.today
        others = self._policy.turn_runner_ups(item, text)
        result = (
            await self._offload(classify, text, expected, today=today, runner_ups=others) if text else None
        )
        nlu_ms = int((self._loop.time() - started) * 1000)
        self._metric("nlu_ms", nlu_ms)
        return self._policy.on_understood(item, text, result, nlu_ms)

    async def _guarded(self, commands: list[cmd.Command]) -> None:
        """Execute commands; a store failure on the way ends the call politely instead (SPEC 7.8)."""
        try:
            await self._execute(commands)
        except StoreUnavailable as exc:
            log.error("call %s: the store cannot be written; ending the call", self.setup.call_id)
            await self._execute(self._policy.on(StoreFailed(str(exc))))

    async def _execute(self, commands: list[cmd.Command]) -> None:
        for c in commands:
            if self._ended.is_set():
                return
            if isinstance(c, cmd.Speak):
                await self._speak(c)
            elif isinstance(c, cmd.Interrupt):
                self._interrupt(c)
            elif isinstance(c, cmd.Prefetch):
                self._voice.prefetch(c.texts, c.soon_s)
            elif isinstance(c, cmd.PersistOptOut):
                await self._persist_opt_out(c)
            elif isinstance(c, cmd.RecordEvent):
                await self._rec.record_event(self.setup.call_id, c.kind, c.data)
            elif isinstance(c, cmd.RecordTurn):
                self._record_turn(c)
            elif isinstance(c, cmd.Notify):
                await self._notify(c.event)
            elif isinstance(c, cmd.StartTimer):
                self._timers.start(c.name, c.seconds, c.token)
            elif isinstance(c, cmd.CancelTimer):
                self._timers.cancel(c.name)
            elif isinstance(c, cmd.End):
                await self._end(c.outcome)

    async def _speak(self, c: cmd.Speak) -> None:
        say, start_ms = c.say, self._stream_ms()
        self._voice.speak(c)
        turn = cmd.RecordTurn("agent", say.text, None, start_ms)
        self._record_turn(turn, say_id=say.say_id, state=say.state)
        await self._notify(pg.AgentSaid(say.say_id, say.text, say.state, say.disclosure, start_ms))

    def _interrupt(self, c: cmd.Interrupt) -> None:
        cut = self._voice.interrupt()
        if c.reason == "barge_in":
            self.result.barge_ins += 1
            self._metric("barge_in", 1)
            if cut is not None:
                heard = self._voice.heard_ms(cut)
                self._tasks.spawn(self._notify(pg.BargedIn(cut.say_id, heard, self._stream_ms())))
        if cut is not None and c.report:
            self._queue.put_nowait(Cut(cut.say_id, self._voice.heard_ms(cut), cut.total_ms))

    async def _persist_opt_out(self, c: cmd.PersistOptOut) -> None:
        started = self._loop.time()
        await self._rec.record_opt_out(self.setup.call_id, c.scope, c.via)
        persisted_ms = int((self._loop.time() - started) * 1000)
        self.result.opt_out_persist_ms.append(persisted_ms)
        self._metric("opt_out_persist_ms", persisted_ms)
        await self._notify(pg.OptedOut(c.via, persisted_ms))

    def _record_turn(self, c: cmd.RecordTurn, **extra: str) -> None:
        self.result.add_turn(c.speaker, c.text, c.intent, c.start_ms, **extra)
        call_id, rec = self.setup.call_id, self._rec
        self._writes.submit(lambda: rec.record_turn(call_id, c.speaker, c.text, c.intent, c.start_ms))

    async def _end(self, outcome: str) -> None:
        self.result.outcome = outcome
        await self._voice.finish()
        while not self._queue.empty() and not self._ended.is_set():  # said or keyed in the goodbye
            if isinstance(item := self._queue.get_nowait(), (KeyPress, HeardTurn)):
                await self._guarded(await self._handle(item))
        if self._ended.is_set():  # an opt-out acted: its confirmation ended the call (SPEC 7.3)
            return
        await self._notify(pg.CallEnded(outcome))
        await self._out.hangup(outcome)
        self._ended.set()

    def _quiet(self, spoken: int, played: pg.AgentTurnPlayed | None) -> None:
        self._queue.put_nowait(AgentQuiet(spoken))
        if played is not None:  # how the agent turn sounded: voice-to-voice is not all (issue 11.3)
            self.result.turn_gaps_ms.append(played.longest_gap_ms)
            self._tasks.spawn(self._notify(played))

    def _timed(self, timed: pg.TurnTimed) -> None:
        self.result.voice_to_voice_ms.append(timed.voice_to_voice_ms)
        self._metric("voice_to_voice_ms", timed.voice_to_voice_ms)
        self._tasks.spawn(self._notify(timed))

    async def _notify(self, event: pg.Progress) -> None:
        await self._out.notify(pg.to_json(event))

    def _is_complete(self, text: str) -> bool:
        return bool(wanted := self._policy.complete_intents) and self._nlu.is_complete_answer(text, wanted)

    def _stream_ms(self) -> int:
        return int((self._loop.time() - self._t0) * 1000)

    async def _finish(self) -> None:
        timings = self.result.timings(self._stream_ms())
        try:
            await self._rec.finish_call(self.setup.call_id, self.result.outcome, timings)
        except Exception:
            log.exception("could not record the end of call %s", self.setup.call_id)
        if self._recording is not None:
            await self._recording.close()
