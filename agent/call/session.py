"""One call: wires audio in, turn-taking, engines, the dialogue engine, the store and audio out.

This is the only place that knows time and concurrency (DESIGN.md). Everything the
dialogue engine decides goes through `_act`, strictly in order: an opt-out is committed to
the store before its confirmation is spoken, and the call ends only after the goodbye has
played.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.asr.base import Transcript
from agent.call.contracts import (
    OPT_OUT_INTENTS,
    SAFE_CLOSE,
    STORE_DOWN_CLOSE,
    CallOutput,
    CallResult,
    CallSetup,
    Nlu,
)
from agent.call.listener import HeardTurn, Listener, ListenerHooks
from agent.call.playout import Playout, Utterance
from agent.call.recorder import CallRecorder
from agent.call.speech_cache import SpeechCache
from agent.call.turns import TurnPolicy
from agent.compliance import guard
from agent.config import CallConfig
from agent.dialogue import engine as dialogue
from agent.dialogue.events import (
    CustomerTurn,
    EndCall,
    Event,
    KeyPress,
    Listen,
    MaxDuration,
    NoInput,
    RecordOptOut,
    Say,
    SayInterrupted,
)
from agent.store.errors import StoreUnavailable
from agent.tts.base import split_sentences

log = logging.getLogger(__name__)

CONTINUATION_S = 0.8  # speech resuming this soon after a fast end of turn continues that turn


@dataclass(frozen=True, slots=True)
class _Answered:
    """A customer turn already answered, kept so a continuation can re-answer it whole."""

    state_before: Any
    text: str
    speech_end_at: float


class CallSession(ListenerHooks):
    """Runs one call from its first agent word to hang-up."""

    def __init__(
        self,
        setup: CallSetup,
        *,
        engines: Any,
        cache: SpeechCache,
        nlu: Nlu,
        recorder: CallRecorder,
        out: CallOutput,
        config: CallConfig,
        opt_out_key: str = "9",
        prohibited: tuple[Any, ...] = (),
        on_metric: Callable[[str, float], None] | None = None,
    ) -> None:
        self.setup = setup
        self._engines = engines
        self._cache = cache
        self._nlu = nlu
        self._rec = recorder
        self._out = out
        self._cfg = config
        self._opt_out_key = opt_out_key
        self._prohibited = prohibited
        self._metric = on_metric or (lambda name, value: None)
        self.result = CallResult(setup.call_id)
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._events: asyncio.Queue[Event | HeardTurn | StoreUnavailable | None] = asyncio.Queue()
        self._playout = Playout(
            self._send_frame, send_ahead_ms=config.send_ahead_ms, max_talk_s=config.max_agent_talk_s
        )
        self._listen = Listen(expected=())
        self._state: Any = None
        self._ended = asyncio.Event()
        self._last_activity = self._t0
        self._turn_in_progress = False
        self._last_say: Utterance | None = None
        self._answering: tuple[HeardTurn, int] | None = None  # the turn (and NLU ms) awaiting a reply
        self._last_answered: _Answered | None = None  # a fast-ended turn the customer may continue
        self._final_action = False  # the current step opted out or ended the call
        self._tasks: set[asyncio.Task[Any]] = set()
        self._write_lock = asyncio.Lock()  # store writes of one call go in order (FIFO lock)
        self._marks: dict[str, asyncio.Event] = {}
        self._listener = Listener(
            engines.new_vad_stream(),
            self._transcribe,
            self,
            TurnPolicy(
                barge_in_min_ms=config.barge_in_min_ms,
                min_turn_ms=config.min_turn_ms,
                short_ms=config.endpoint_short_ms,
                long_ms=config.endpoint_long_ms,
            ),
            partial_every_ms=config.partial_every_ms,
            busy=lambda: getattr(getattr(engines, "pool", None), "queue_depth", 0) > 0,
        )

    # --- inbound, called by the transport runner -------------------------------------

    def feed_audio(self, pcm16k: np.ndarray) -> None:
        """Customer audio (16 kHz PCM16) as it arrives."""
        if not self._ended.is_set():
            self._listener.feed(pcm16k)

    def feed_dtmf(self, digit: str) -> None:
        """A key press."""
        self._last_activity = self._loop.time()
        self._events.put_nowait(KeyPress(digit))

    def mark_echoed(self, name: str, cleared: bool | None) -> None:
        """The gateway reached a mark we placed after an utterance."""
        event = self._marks.pop(name, None)
        if event is not None:
            event.set()

    def set_paused(self, paused: bool) -> None:
        """Gateway flow control."""
        self._playout.paused = paused

    def peer_hung_up(self) -> None:
        """The customer or gateway ended the call."""
        self._events.put_nowait(None)

    @property
    def ended(self) -> asyncio.Event:
        """Set once the call is over."""
        return self._ended

    # --- the call -----------------------------------------------------------------------

    async def run(self) -> CallResult:
        """Play the call to its end; returns the result (also on errors)."""
        playout_task = asyncio.create_task(self._playout.run())
        timer_task = asyncio.create_task(self._timers())
        try:
            await self._rec.record_event(
                self.setup.call_id,
                "call_started",
                {"script": self.setup.script.meta.id, "version": self.setup.script.meta.version,
                 "locale": self.setup.locale, "protocol": self.setup.protocol},
            )
            self._state, actions = dialogue.start(
                self.setup.script, self.setup.slots, today=self.setup.today
            )
            try:
                await self._act(actions)
                while not self._ended.is_set():
                    item = await self._events.get()
                    if item is None:
                        break
                    if isinstance(item, StoreUnavailable):
                        raise item
                    if isinstance(item, HeardTurn):
                        await self._on_heard(item)
                    else:
                        await self._step(item)
            except StoreUnavailable:
                await self._fail_closed()
        except StoreUnavailable:
            log.error("call %s not started: the store cannot be written", self.setup.call_id)
            self.result.outcome = "store_unavailable"
        except Exception:
            log.exception("call %s failed; ending it", self.setup.call_id)
            self.result.outcome = "error"
        finally:
            self._ended.set()
            timer_task.cancel()
            self._playout.stop()
            playout_task.cancel()
            await self._listener.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(playout_task, timer_task, *self._tasks, return_exceptions=True)
            self.result.underruns = self._playout.underruns
            await self._finish()
        return self.result

    async def _finish(self) -> None:
        timings = {
            "voice_to_voice_ms": self.result.voice_to_voice_ms,
            "barge_ins": self.result.barge_ins,
            "underruns": self.result.underruns,
            "duration_ms": int((self._loop.time() - self._t0) * 1000),
        }
        try:
            await self._rec.finish_call(self.setup.call_id, self.result.outcome, timings)
        except Exception:
            log.exception("could not record the end of call %s", self.setup.call_id)

    async def _step(self, event: Event) -> None:
        if not isinstance(event, (CustomerTurn, SayInterrupted)):
            self._last_answered = None  # a key press or a timer: the last answer stands
        self._state, actions = dialogue.step(self.setup.script, self._state, event)
        await self._act(actions)

    async def _act(self, actions: list[Any]) -> None:
        for action in actions:
            if self._ended.is_set():
                return
            if isinstance(action, Listen):
                self._listen = action
                self._prefetch()
            elif isinstance(action, Say):
                if not await self._guarded(action):
                    return
            elif isinstance(action, RecordOptOut):
                self._final_action = True
                await self._opt_out(action)
            elif isinstance(action, EndCall):
                self._final_action = True
                await self._end(action.outcome)

    async def _fail_closed(self) -> None:
        """The store failed mid-call (SPEC 7.8): end politely, acknowledging nothing unrecorded."""
        log.error("call %s: the store cannot be written; ending the call", self.setup.call_id)
        self._playout.stop()
        await self._out.clear()
        close = STORE_DOWN_CLOSE.get(self.setup.locale, STORE_DOWN_CLOSE["en-US"])
        await self._say(Say("store.fail_closed", close, "fail_closed", interruptible=False))
        await self._end("store_unavailable")

    def _record(self, write: Callable[..., Any], *args: Any) -> None:
        """A background store write, in call order; a failure ends the call (fail closed)."""

        async def in_order() -> Any:
            async with self._write_lock:
                return await write(*args)  # the coroutine is made only once it may run

        task = self._spawn(in_order())

        def check(done: asyncio.Task[Any]) -> None:
            if not done.cancelled() and isinstance(done.exception(), StoreUnavailable):
                self._events.put_nowait(done.exception())  # type: ignore[arg-type]

        task.add_done_callback(check)

    # --- actions --------------------------------------------------------------------------

    async def _guarded(self, say: Say) -> bool:
        """Say it if the guard passes it; else say the safe close, record why, end the call."""
        verdict = guard.check(
            say.text,
            prohibited=self._prohibited,
            slots=self.setup.slots,
            right_party_confirmed=bool(getattr(self._state, "right_party_confirmed", False)),
        )
        if verdict.ok:
            await self._say(say)
            return True
        log.error("guard blocked %s: %s (%s)", say.say_id, verdict.rule, verdict.detail)
        await self._rec.record_event(
            self.setup.call_id, "guard_violation",
            {"say_id": say.say_id, "rule": verdict.rule, "detail": verdict.detail},
        )
        close = SAFE_CLOSE.get(self.setup.locale, SAFE_CLOSE["en-US"])
        await self._say(Say("guard.safe_close", close, say.state, interruptible=False))
        await self._end("script_error")
        return False

    async def _say(self, say: Say) -> Utterance:
        utt = Utterance(say.say_id, interruptible=say.interruptible)
        sentences = split_sentences(say.text) or [say.text]
        jobs = [asyncio.ensure_future(self._cache.get(self.setup.locale, s)) for s in sentences]
        self._playout.play(utt)
        self._last_say = utt
        if self._answering is not None:
            turn, nlu_ms = self._answering
            self._answering = None
            self._spawn(self._measure(turn, utt, nlu_ms))
        self._last_activity = self._loop.time()
        start_ms = self._stream_ms()
        self.result.turns.append(
            {"speaker": "agent", "text": say.text, "intent": None, "start_ms": start_ms,
             "say_id": say.say_id, "state": say.state}
        )
        await self._out.notify(
            {"type": "agent", "say_id": say.say_id, "text": say.text, "state": say.state,
             "disclosure": say.disclosure, "start_ms": start_ms}
        )
        self._spawn(self._feed_utterance(utt, jobs))
        self._record(self._rec.record_turn, self.setup.call_id, "agent", say.text, None, start_ms)
        return utt

    async def _feed_utterance(self, utt: Utterance, jobs: list[asyncio.Future[np.ndarray]]) -> None:
        try:
            for job in jobs:
                pcm = await job
                if utt.stopped:
                    break
                utt.add(pcm)
        except Exception:
            log.exception("speech synthesis failed for %s", utt.say_id)
        finally:
            utt.close()
            for job in jobs:
                job.cancel()
        await utt.done.wait()
        if not utt.stopped:
            name = f"{utt.say_id}#{id(utt)}"
            self._marks[name] = asyncio.Event()
            await self._out.mark(name)
            self._last_activity = self._loop.time()

    async def _opt_out(self, action: RecordOptOut) -> None:
        started = self._loop.time()
        await self._rec.record_opt_out(self.setup.call_id, action.scope, action.via)
        persisted_ms = int((self._loop.time() - started) * 1000)
        self.result.opt_out_persist_ms.append(persisted_ms)
        self._metric("opt_out_persist_ms", persisted_ms)
        await self._out.notify({"type": "opt_out", "via": action.via, "persisted_ms": persisted_ms})

    async def _end(self, outcome: str) -> None:
        self.result.outcome = outcome
        deadline = self._cfg.max_agent_talk_s + self._cfg.goodbye_grace_ms / 1000
        try:
            await asyncio.wait_for(self._playout.wait_idle(), timeout=deadline)
            pending = [e.wait() for e in self._marks.values()]
            if pending:
                await asyncio.wait_for(asyncio.gather(*pending), self._cfg.goodbye_grace_ms / 1000)
        except TimeoutError:
            log.warning("goodbye did not confirm playing in time; hanging up")
        await self._out.notify({"type": "end", "outcome": outcome})
        await self._out.hangup(outcome)
        self._ended.set()

    # --- listening --------------------------------------------------------------------------

    def speaking(self) -> tuple[bool, bool]:
        current = self._playout.current
        return (self._playout.speaking, current is not None and current.interruptible)

    def on_onset(self) -> None:
        self._turn_in_progress = True
        self._last_activity = self._loop.time()

    def on_barge_in(self) -> None:
        cut = self._playout.stop()
        asyncio.create_task(self._out.clear())
        self.result.barge_ins += 1
        self._metric("barge_in", 1)
        if cut is not None:
            heard = self._playout.heard_ms(cut, self._loop.time())
            asyncio.create_task(
                self._out.notify({"type": "barge_in", "say_id": cut.say_id, "heard_ms": heard,
                                  "stream_ms": self._stream_ms()})
            )
            self._events.put_nowait(SayInterrupted(cut.say_id, heard, cut.total_ms))

    def on_discard(self) -> None:
        self._turn_in_progress = False

    def on_partial(self, transcript: Transcript) -> None:
        if transcript.text:
            asyncio.create_task(
                self._out.notify({"type": "transcript", "final": False, "text": transcript.text})
            )

    def is_complete(self, text: str) -> bool:
        expected = self._listen.complete_answers or self._listen.expected
        return bool(expected) and self._nlu.is_complete_answer(text, expected)

    def on_turn(self, turn: HeardTurn) -> None:
        self._turn_in_progress = False
        self._last_activity = self._loop.time()
        self._events.put_nowait(turn)

    def _continuation_of(self, turn: HeardTurn) -> _Answered | None:
        """The answered turn this one continues, if the customer only paused mid-answer.

        A fast end of turn can fire inside an answer ("Yes, | speaking."): the customer goes
        on within CONTINUATION_S, barging into the reply. The engine is pure, so the call
        goes back to the state before the first part and answers the whole utterance.
        """
        last = self._last_answered
        if last is None or not turn.barged_in:
            return None
        onset_at = turn.speech_end_at - (turn.end_ms - turn.onset_ms) / 1000
        return last if onset_at - last.speech_end_at <= CONTINUATION_S else None

    async def _on_heard(self, turn: HeardTurn) -> None:
        text = turn.transcript.text.strip()
        resumed = self._continuation_of(turn) if text else None
        if resumed is not None:
            log.info("customer continued %r with %r: answering the whole turn", resumed.text, text)
            self._state = resumed.state_before
            text = f"{resumed.text} {text}"
        self._last_answered = None
        nlu_start = self._loop.time()
        result = (
            self._nlu.classify(text, self._listen.expected or None, today=self.setup.today)
            if text else None
        )
        intent = result.intent if result is not None else "unknown"
        nlu_ms = int((self._loop.time() - nlu_start) * 1000)
        self._metric("nlu_ms", nlu_ms)
        if turn.overlapped and not turn.barged_in and intent not in OPT_OUT_INTENTS:
            log.info("backchannel while the agent spoke ignored: %r", text)
            return
        if not text and not turn.barged_in:
            return  # noise that got past the VAD: not a turn
        self.result.turns.append(
            {"speaker": "customer", "text": text, "intent": intent, "start_ms": turn.onset_ms}
        )
        await self._out.notify(
            {"type": "transcript", "final": True, "text": text, "intent": intent,
             "confidence": getattr(result, "confidence", 0.0), "start_ms": turn.onset_ms}
        )
        self._record(self._rec.record_turn, self.setup.call_id, "customer", text, intent, turn.onset_ms)
        slots = dict(getattr(result, "slots", {}) or {})
        self._answering = (turn, nlu_ms)
        state_before, self._final_action = self._state, False
        await self._step(
            CustomerTurn(intent=intent, confidence=getattr(result, "confidence", 0.0), slots=slots,
                         text=text)
        )
        self._answering = None
        if turn.fast and not self._final_action:  # only a fast end of turn can cut an answer short
            self._last_answered = _Answered(state_before, text, turn.speech_end_at)

    async def _measure(self, turn: HeardTurn, reply: Utterance, nlu_ms: int) -> None:
        await reply.started.wait()
        if reply.first_frame_at is None:
            return
        v2v = int((reply.first_frame_at - turn.speech_end_at) * 1000)
        endpoint_ms = int((turn.decided_at - turn.speech_end_at) * 1000)
        asr_wait_ms = int(max(0.0, turn.transcript_at - turn.decided_at) * 1000)
        self.result.voice_to_voice_ms.append(v2v)
        self._metric("voice_to_voice_ms", v2v)
        await self._out.notify(
            {"type": "turn", "voice_to_voice_ms": v2v, "endpoint_ms": endpoint_ms,
             "asr_ms": turn.transcript.compute_ms, "asr_wait_ms": asr_wait_ms, "nlu_ms": nlu_ms,
             "fast_endpoint": turn.fast}
        )

    # --- engines and timers -----------------------------------------------------------------

    async def _transcribe(self, pcm: np.ndarray, partial: bool) -> Transcript:
        transcript: Transcript = await self._engines.transcribe(
            self.setup.locale, pcm, hint=self._listen.hint, partial=partial
        )
        if not partial:
            self._metric("asr_ms", transcript.compute_ms)
        return transcript

    def _prefetch(self) -> None:
        if not self._cfg.prerender or self._state is None:
            return
        for _say_id, text in dialogue.likely_next_says(self.setup.script, self._state, self.setup.slots):
            for sentence in split_sentences(text) or [text]:
                self._cache.prefetch(self.setup.locale, sentence)

    async def _send_frame(self, frame: np.ndarray) -> None:
        await self._out.audio(frame)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        """A task owned by this call: cancelled when the call ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _stream_ms(self) -> int:
        return int((self._loop.time() - self._t0) * 1000)

    async def _timers(self) -> None:
        max_call_at = self._t0 + self._cfg.max_call_s
        max_sent = False
        while not self._ended.is_set():
            await asyncio.sleep(0.1)
            now = self._loop.time()
            if now >= max_call_at and not max_sent:
                max_sent = True
                self._events.put_nowait(MaxDuration())
                continue
            if self._playout.speaking or self._turn_in_progress or not self._events.empty():
                self._last_activity = now  # the no-input wait starts when all of these are over
                continue
            if now - self._last_activity >= self._cfg.no_input_ms / 1000:
                self._last_activity = now
                self._events.put_nowait(NoInput())

