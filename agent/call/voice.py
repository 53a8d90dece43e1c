"""The agent's voice in one call: utterances to sentences to synthesis to paced playout.

Owns the playout, the synthesis jobs of each utterance, the marks placed after them and
the measurement of each reply's voice-to-voice time. The shell tells it what to say and
when to stop; it reports when everything queued has played (`on_quiet`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence

import numpy as np

from agent.call.commands import Reply, Speak
from agent.call.contracts import CallResult
from agent.call.playout import Playout, Utterance
from agent.call.ports import CallOutput
from agent.call.progress import AgentTurnPlayed, TurnTimed
from agent.call.speech_cache import SpeechCache
from agent.call.tasks import OwnedTasks
from agent.call.units import Unit, plan, sentence_text, shape
from agent.config import CallConfig
from agent.dialogue.events import Say
from agent.dialogue.render import Piece
from agent.tts.base import split_sentences

log = logging.getLogger(__name__)


def speech_seconds(text: str) -> float:
    """A rough playing time of `text` before it is synthesised (CJK ~4 chars/s, else ~15)."""
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return 0.25 * cjk + 0.065 * (len(text) - cjk)


class AgentVoice:
    """Plays the agent's utterances one after another; stoppable at once."""

    def __init__(
        self,
        out: CallOutput,
        cache: SpeechCache,
        locale: str,
        config: CallConfig,
        tasks: OwnedTasks,
        *,
        on_quiet: Callable[[int, AgentTurnPlayed | None], None],
        on_timed: Callable[[TurnTimed], None],
        tap: Callable[[np.ndarray], None] | None = None,
        fixed_slots: Collection[str] = (),
    ) -> None:
        self._out = out
        self._fixed = frozenset(fixed_slots)  # slots spoken the same on every call (deployment constants)
        self._cache = cache
        self._locale = locale
        self._cfg = config
        self._tasks = tasks
        self._on_quiet = on_quiet
        self._on_timed = on_timed
        self._tap = tap  # sees every frame sent (the call recording)
        self.queued = 0  # utterances given to the playout so far
        self._marks: dict[str, asyncio.Event] = {}
        self._free_at = 0.0  # loop time the speech queued so far should have finished playing
        self._born = asyncio.get_running_loop().time()
        self._first_sent: float | None = None  # loop time of the call's first agent frame
        # a buffering gateway holds a lead of agent audio, so a stall of the event loop or of the
        # process (a loaded box) shorter than it is not heard; barge-in's clear takes it back
        ahead = config.gateway_lead_ms if out.buffers_audio else config.send_ahead_ms
        self.playout = Playout(
            self._send, send_ahead_ms=max(ahead, config.send_ahead_ms), max_talk_s=config.max_agent_talk_s,
            on_idle=self._idle,
        )

    async def _send(self, frame: np.ndarray) -> None:
        if self._first_sent is None:
            self._first_sent = asyncio.get_running_loop().time()
        if self._tap is not None:
            self._tap(frame)
        await self._out.audio(frame)

    def _idle(self) -> None:
        """Everything queued has played: report the agent turn (its longest inner silence)."""
        p = self.playout
        played = AgentTurnPlayed(tuple(p.turn_say_ids), p.turn_gap_ms, p.underruns, p.turn_gap_at)
        self._on_quiet(self.queued, played if p.turn_say_ids else None)

    def report(self, result: CallResult) -> None:
        """The call's playout figures: underruns, and how soon after the start its first audio went out."""
        result.underruns = self.playout.underruns
        if self._first_sent is not None:
            result.first_audio_ms = int((self._first_sent - self._born) * 1000)

    def speaking(self) -> tuple[bool, bool]:
        """(agent audio is playing or queued, the current utterance may be interrupted)."""
        current = self.playout.playing(asyncio.get_running_loop().time())  # maybe the one before, its tail
        return (self.playout.speaking, current is not None and current.interruptible)

    def speak(self, cmd: Speak) -> Utterance:
        """Queue an utterance; its sentences are synthesised (or taken from the cache) as needed."""
        say = cmd.say
        utt = Utterance(say.say_id, interruptible=say.interruptible)
        units = self.units(say)
        jobs = [self._cache.request(self._locale, unit.text, due=due) for unit, due in self._schedule(units)]
        self.playout.play(utt)
        self.queued += 1
        if cmd.reply is not None:
            self._tasks.spawn(self._measure(cmd.reply, utt))
        self._tasks.spawn(self._feed(utt, units, jobs))
        return utt

    def units(self, say: Say) -> list[Unit]:
        """What to request for `say`, in the order heard: whole sentences when ready, else their units.

        Ready is rendered, or in flight for someone who needs it now (high priority: the opening
        a grant queued). A sentence only pre-rendered at low priority and not done is cut like any
        other when its first unit is in the cache (its script words play at once, only its values
        render) and its pre-render dropped: a whole long sentence rendered now came 3.4 s late
        after "on December fourth." on a loaded box. Else its pre-render is promoted (SpeechCache).
        """
        sentences = say.sentences or tuple((Piece(s),) for s in split_sentences(say.text) or [say.text])
        cache, locale = self._cache, self._locale

        def ready(text: str) -> bool:
            return cache.cached(locale, text) or cache.needed(locale, text)

        out: list[Unit] = []
        for pieces in sentences:
            units = [unit for unit in plan(pieces, ready, self._fixed) if unit.text]
            whole = sentence_text(pieces)
            if len(units) > 1 and cache.pending(locale, whole):
                if cache.cached(locale, units[0].text):
                    cache.drop_speculative(locale, whole)
                else:
                    units = [Unit(whole)]
            out += units
        return out

    def _schedule(self, units: list[Unit]) -> list[tuple[Unit, float]]:
        """Each unit with the loop time it should start playing: synthesis goes by need.

        Every unit of the utterance is in the pool's queue at once, each due when it will be
        heard: the pool runs the soonest-needed job first, so the unit a customer is about to
        hear (of this call or any other) is never queued behind one heard seconds later, and
        pre-renders (low priority) never run ahead of either.
        """
        start = max(asyncio.get_running_loop().time(), self._free_at)
        out = []
        for unit in units:
            out.append((unit, start))
            start += speech_seconds(unit.text) + (unit.pause_ms or 0) / 1000
        self._free_at = start
        return out

    def interrupt(self) -> Utterance | None:
        """Stop now, take back what the gateway holds; returns the utterance cut off."""
        self._free_at = 0.0
        cut = self.playout.stop()
        self._tasks.spawn(self._out.clear())
        return cut

    def heard_ms(self, utt: Utterance) -> int:
        return self.playout.heard_ms(utt, asyncio.get_running_loop().time())

    def prefetch(self, texts: tuple[str, ...], soon_s: float | None = None) -> None:
        """Synthesise ahead: at low priority, or needed `soon_s` from now (high, sentence by sentence by
        due time; `speak` then plays each whole, as it is in flight for someone who needs it)."""
        if soon_s is None:
            for text in texts:
                self._cache.prefetch(self._locale, text)
            return
        due = asyncio.get_running_loop().time() + soon_s
        for sentence in (s for text in texts for s in split_sentences(text) or [text]):
            self._cache.prefetch(self._locale, sentence, priority="high", due=due)
            due += speech_seconds(sentence)

    def mark_echoed(self, name: str) -> None:
        event = self._marks.pop(name, None)
        if event is not None:
            event.set()

    async def finish(self) -> None:
        """Wait until the goodbye has played and the gateway confirmed it (bounded)."""
        grace = self._cfg.goodbye_grace_ms / 1000
        try:
            await asyncio.wait_for(self.playout.wait_idle(), timeout=self._cfg.max_agent_talk_s + grace)
            pending = [e.wait() for e in self._marks.values()]
            if pending:
                await asyncio.wait_for(asyncio.gather(*pending), grace)
        except TimeoutError:
            log.warning("goodbye did not confirm playing in time; hanging up")

    async def _feed(self, utt: Utterance, units: Sequence[Unit],
                    jobs: Sequence[asyncio.Future[np.ndarray]]) -> None:
        try:
            for i, job in enumerate(jobs):
                pcm = await job
                if utt.stopped:
                    break
                goes_on = i + 1 < len(units) and units[i + 1].pause_ms is not None
                utt.add(shape(pcm, lead_ms=units[i].pause_ms, trim_tail=goes_on), units[i].text)
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

    async def _measure(self, reply: Reply, utt: Utterance) -> None:
        await utt.started.wait()
        if utt.first_frame_at is None:
            return
        turn = reply.turn
        self._on_timed(
            TurnTimed(
                voice_to_voice_ms=int((utt.first_frame_at - turn.speech_end_at) * 1000),
                endpoint_ms=int((turn.decided_at - turn.speech_end_at) * 1000),
                asr_ms=turn.transcript.compute_ms,
                asr_wait_ms=int(max(0.0, turn.transcript_at - turn.decided_at) * 1000),
                nlu_ms=reply.nlu_ms,
                fast_endpoint=turn.fast,
            )
        )

    async def run(self) -> None:
        await self.playout.run()
