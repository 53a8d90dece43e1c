"""The call policy: pure decisions of one call, inbound events in, commands out.

It owns what used to be buried in the async session: the dialogue state and engine
steps, the continuation of an answer cut short by a fast end of turn, backchannels, the
guard on every utterance, opt-out ordering (persist, then confirm, then end), fail-closed,
and the no-input and max-duration timers. No I/O, no clock, no asyncio: the shell
(session.py) feeds it and executes what it returns, in order.

Answer screening (outbound campaign calls, `CallSetup.screen`): the opening is held, not
said, while the evidence of the first seconds (each frame's VAD flag and beep tone, the
transcripts) says who answered (agent.campaign.amd). A person (or no verdict in time) hears
the held opening at once; a carrier announcement is hung up on in silence with its result
as the outcome; a voicemail is hung up on, or, where the jurisdiction leaves a message (US
Reg F), gets the script's voicemail state once the greeting is over (its beep, or a pause).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from agent.call.commands import (
    CancelTimer,
    Command,
    End,
    Interrupt,
    Notify,
    PersistOptOut,
    Prefetch,
    RecordEvent,
    RecordTurn,
    Reply,
    Speak,
    StartTimer,
)
from agent.call.contracts import OPT_OUT_INTENTS, SAFE_CLOSE, STORE_DOWN_CLOSE, CallSetup
from agent.call.ports import Understood
from agent.call.progress import Transcribed
from agent.call.signals import (
    AgentQuiet,
    AnswerFrame,
    BargeIn,
    Cut,
    HeardTurn,
    Inbound,
    NoiseDiscarded,
    Partial,
    SpeechStarted,
    StoreFailed,
    TimerFired,
)
from agent.campaign import amd
from agent.compliance import guard
from agent.compliance.guard import ProhibitedRule
from agent.config import CallConfig
from agent.dialogue import engine as dialogue
from agent.dialogue import presynth
from agent.dialogue.engine import VOICEMAIL_STATE, DialogueState
from agent.dialogue.events import (
    Action,
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
from agent.tts.base import split_sentences

log = logging.getLogger(__name__)

CONTINUATION_S = 0.8  # speech resuming this soon after a fast end of turn continues that turn
NO_INPUT, MAX_CALL = "no_input", "max_call"
SCREEN, MESSAGE = "screen", "message"  # no verdict in time: a person; the greeting's end not heard
SCREEN_GRACE_S = 1.0  # the screen timer runs this much past amd's analysis time (media may lag)
MESSAGE_JURISDICTIONS = frozenset({"US"})  # a machine gets the limited-content message; elsewhere a hang-up
OPENING_SOON_S = 1.0  # a screened call's held opening is needed about this soon (a hello, then a pause)
HANGUP_SCREENING = "hangup_before_verdict"  # the far end hung up before the agent said a word


@dataclass(frozen=True, slots=True)
class _Answered:
    """A customer turn already answered, kept so a continuation can re-answer it whole."""

    state_before: DialogueState
    text: str
    speech_end_at: float


class CallPolicy:
    """One call's decisions; see the module docstring."""

    def __init__(
        self, setup: CallSetup, config: CallConfig, prohibited: Sequence[ProhibitedRule] = ()
    ) -> None:
        self.setup = setup
        self._cfg = config
        self._prohibited = tuple(prohibited)
        self.state: DialogueState | None = None
        self.listen = Listen(expected=())
        self.ended = False
        self.spoken = 0  # Speak commands given so far (AgentQuiet tells how many have played)
        self._speaking = False
        self._in_turn = False
        self._last_answered: _Answered | None = None
        self._reply: Reply | None = None  # the turn the next Speak answers
        self._final = False  # the current step opted out or ended the call
        self._tokens: dict[str, int] = {}
        self._armed: set[str] = set()
        self._store_failed = False
        # while who answered is being classified (from the first frame, even one before start())
        self._screen: amd.Screen | None = amd.Screen() if setup.screen else None
        self._held: list[Action] = []  # the opening, said once a person is heard
        self._machine = False  # a machine answered: hearing its greeting out (carrier or voicemail?)
        self._screened_ms = 0  # stream time screening ended: turns begun before it were evidence
        self.answered_by: amd.Verdict | None = None

    # --- what the shell asks ------------------------------------------------------------

    @property
    def screening(self) -> bool:
        """True while the answer is screened: the shell feeds AnswerFrames, the agent is silent."""
        return self._screen is not None

    def screens(self, turn: HeardTurn) -> bool:
        """True when a customer turn is screening evidence (not for the dialogue, nor for NLU)."""
        return self._screen is not None or turn.onset_ms < self._screened_ms

    def hung_up(self, outcome: str) -> str:
        """The outcome of a call the far end hung up: before the screening's verdict, nobody talked."""
        return HANGUP_SCREENING if self._screen is not None and outcome == "hangup" else outcome

    @property
    def hint(self) -> str | None:
        """ASR hint for the turn the agent is listening for."""
        return self.listen.hint

    @property
    def expected(self) -> tuple[str, ...] | None:
        """Intents the current state expects (None: any)."""
        return self.listen.expected or None

    @property
    def complete_intents(self) -> tuple[str, ...]:
        """Intents that make a running transcript a complete answer (fast end of turn)."""
        return self.listen.complete_answers or self.listen.expected

    # --- events in ------------------------------------------------------------------------

    def start(self) -> list[Command]:
        """The call's opening: the max-duration timer, the disclosure and first question."""
        self.state, actions = dialogue.start(self.setup.script, self.setup.slots, today=self.setup.today)
        timer = self._start_timer(MAX_CALL, self._cfg.max_call_s)
        if self._screen is None:
            return self._settle([timer, *self._act(actions)])
        self._held = list(actions)
        texts = [t for a in actions if isinstance(a, Say) for t in (split_sentences(a.text) or [a.text])]
        wait = self._screen.config.analysis_s + SCREEN_GRACE_S
        soon = Prefetch(tuple(dict.fromkeys(texts)), soon_s=OPENING_SOON_S)  # ready when a person is heard
        return self._settle([timer, self._start_timer(SCREEN, wait), soon])

    def urgent(self, item: Inbound) -> list[Interrupt]:
        """What must happen the moment `item` arrives, before the queue gets to it.

        Speech long enough to barge in stops the agent at once; so does a key that ends the
        call (the opt-out key, or a key the state treats as final): stop, clear, then the
        queued key press persists and confirms (issue 11.4).
        """
        if isinstance(item, BargeIn) and self._screen is None:
            return [Interrupt(report=True, reason="barge_in")]
        if isinstance(item, KeyPress) and self._speaking and self._final_key(item):
            return [Interrupt(report=False, reason="key")]
        return []

    def _final_key(self, key: KeyPress) -> bool:
        """True when the key press would opt out or end the call (a pure probe of the engine)."""
        if self.state is None or self.ended:
            return False
        _, actions = dialogue.step(self.setup.script, self.state, key)
        return any(isinstance(a, (RecordOptOut, EndCall)) for a in actions)

    def on(self, item: Inbound) -> list[Command]:
        """Handle one queued item (a HeardTurn goes through turn_text and on_understood)."""
        if self._screen is not None and isinstance(item, (AnswerFrame, Partial, HeardTurn, KeyPress)):
            return self._settle(self._screened(item))
        out: list[Command] = []
        if isinstance(item, HeardTurn):  # evidence heard before the verdict, answered by nobody
            self._in_turn = False
        elif isinstance(item, SpeechStarted):
            self._in_turn = True
        elif isinstance(item, NoiseDiscarded):
            self._in_turn = False
        elif isinstance(item, Partial):
            if item.transcript.text:
                out.append(Notify(Transcribed(final=False, text=item.transcript.text)))
        elif isinstance(item, KeyPress):
            out += [self._cancel(NO_INPUT), *self._step(item)]
        elif isinstance(item, Cut):
            out += self._step(SayInterrupted(item.say_id, item.heard_ms, item.total_ms))
        elif isinstance(item, AgentQuiet):
            if item.spoken >= self.spoken:
                self._speaking = False
        elif isinstance(item, TimerFired):
            out += self._timer_fired(item)
        elif isinstance(item, StoreFailed):
            return self._fail_closed()
        return self._settle(out)

    def turn_text(self, turn: HeardTurn) -> str:
        """The text to classify for a finished turn; a continuation is merged with what it continues."""
        self._in_turn = False
        text = turn.transcript.text.strip()
        resumed = self._continuation_of(turn) if text else None
        if resumed is not None:
            log.info("customer continued %r with %r: answering the whole turn", resumed.text, text)
            self.state = resumed.state_before
            text = f"{resumed.text} {text}"
        self._last_answered = None
        return text

    def turn_runner_ups(self, turn: HeardTurn, text: str) -> tuple[str, ...]:
        """The recogniser's runner-up readings of a finished turn, as whole turns like `text` (the
        text turn_text returned): a continued turn's runner-ups keep what it continued. None while
        the opt-out confirmation waits for its answer or after the script ended: a doubt there is
        honoured at once, and a runner-up alone must never persist an opt-out."""
        heard, state = turn.transcript.text.strip(), self.state
        if state is not None and (state.confirming is not None or state.ended):
            return ()
        if not heard or not text.endswith(heard):
            return ()
        before = text[: len(text) - len(heard)]
        return tuple(before + other for other in turn.transcript.runner_ups)

    def on_understood(
        self, turn: HeardTurn, text: str, result: Understood | None, nlu_ms: int
    ) -> list[Command]:
        """Answer a turn NLU has classified (result None: nothing was said)."""
        intent = result.intent if result is not None else "unknown"
        confidence = result.confidence if result is not None else 0.0
        if turn.overlapped and not turn.barged_in and intent not in OPT_OUT_INTENTS:
            log.info("backchannel while the agent spoke ignored: %r", text)
            return self._settle([])
        if not text and not turn.barged_in:
            return self._settle([])  # noise that got past the VAD: not a turn
        out: list[Command] = [
            Notify(Transcribed(True, text, intent, confidence, turn.onset_ms)),
            RecordTurn("customer", text, intent, turn.onset_ms),
        ]
        assert self.state is not None
        state_before, self._final = self.state, False
        self._reply = Reply(turn, nlu_ms)
        slots = dict(result.slots) if result is not None else {}
        out += self._step(CustomerTurn(intent=intent, confidence=confidence, slots=slots, text=text))
        self._reply = None
        if turn.fast and not self._final:  # only a fast end of turn can cut an answer short
            self._last_answered = _Answered(state_before, text, turn.speech_end_at)
        return self._settle(out)

    # --- answer screening ------------------------------------------------------------------

    def _screened(self, item: AnswerFrame | Partial | HeardTurn | KeyPress) -> list[Command]:
        """One piece of screening evidence; a verdict acts on it."""
        screen = self._screen
        assert screen is not None
        if isinstance(item, AnswerFrame):
            screen.frame(item.speech, item.tone_hz)
        elif isinstance(item, Partial):
            screen.heard(item.transcript.text, final=False)
        elif isinstance(item, HeardTurn):
            self._in_turn = False
            screen.heard(item.transcript.text, final=True)
        if self._machine:
            return self._machine_evidence()
        if isinstance(item, KeyPress):  # a machine does not press keys: a person, who is answered
            live = self._verdict(amd.Verdict("live", f"key {item.digit} pressed"))
            return [*live, self._cancel(NO_INPUT), *self._step(item)]
        verdict = screen.verdict()
        return [] if verdict.kind == "pending" else self._verdict(verdict)

    def _machine_evidence(self) -> list[Command]:
        """A machine answered: wait until its words say which (a carrier's or a voicemail greeting).

        The cadence tells a machine from a person before the words are recognised; the words
        then tell a carrier announcement (its own result) from a voicemail greeting. The
        voicemail verdict acts once the greeting is over (a beep, or a pause with its words
        recognised), or at once when it is certain and no message is left (a hang-up).
        """
        screen = self._screen
        assert screen is not None
        words = amd.match_words(screen.words)
        if words is not None and words.kind == "carrier":
            return self._verdict(words)
        over = screen.message_ready() and not self._in_turn
        certain = words is not None or screen.beep() is not None
        if over or (certain and not self._leaves_message()):
            return self._verdict(words or self.answered_by or amd.Verdict("voicemail", "machine"))
        return []

    def _verdict(self, verdict: amd.Verdict) -> list[Command]:
        """Act on who answered: the held opening, a silent hang-up, or the voicemail message."""
        screen = self._screen
        assert screen is not None
        self.answered_by = verdict
        if verdict.kind == "voicemail" and not self._machine:  # first hear the greeting out
            self._machine = True
            wait = self._start_timer(MESSAGE, screen.config.message_wait_s)
            return [self._cancel(SCREEN), wait, *self._machine_evidence()]
        result = verdict.result.value if verdict.result is not None else None
        data = {"kind": verdict.kind, "reason": verdict.reason, "result": result, "at_ms": screen.elapsed_ms}
        out: list[Command] = [RecordEvent("answered_by", data), self._cancel(SCREEN), self._cancel(MESSAGE)]
        held = self._held
        self._stop_screening()
        if verdict.kind in ("live", "unknown"):  # never hang up on a person
            return [*out, *self._act(held)]
        if verdict.kind == "voicemail" and self._leaves_message():
            self.state, actions = dialogue.start(
                self.setup.script, self.setup.slots, today=self.setup.today, at=VOICEMAIL_STATE
            )
            return [*out, *self._act(actions)]  # the message, then its `end: voicemail`
        return [*out, self._end(result or "voicemail")]  # nothing was said: a silent hang-up

    def _leaves_message(self) -> bool:
        """Whether a machine gets the script's voicemail message (the US Reg F limited-content one)."""
        setup = self.setup
        return setup.jurisdiction in MESSAGE_JURISDICTIONS and VOICEMAIL_STATE in setup.script.states

    def _stop_screening(self) -> None:
        if self._screen is not None:
            self._screened_ms = self._screen.elapsed_ms
        self._screen, self._machine, self._held = None, False, []

    # --- decisions ---------------------------------------------------------------------------

    def _continuation_of(self, turn: HeardTurn) -> _Answered | None:
        """The answered turn this one continues, if the customer only paused mid-answer.

        A fast end of turn can fire inside an answer ("Yes, | speaking."): the customer goes
        on within CONTINUATION_S, barging into the reply. The engine is pure, so the call
        goes back to the state before the first part and answers the whole utterance.
        """
        last = self._last_answered
        if last is None or not turn.barged_in:
            return None
        return last if turn.onset_at - last.speech_end_at <= CONTINUATION_S else None

    def _step(self, event: Event) -> list[Command]:
        if not isinstance(event, (CustomerTurn, SayInterrupted)):
            self._last_answered = None  # a key press or a timer: the last answer stands
        assert self.state is not None
        self.state, actions = dialogue.step(self.setup.script, self.state, event)
        if any(isinstance(a, RecordOptOut) for a in actions):
            self.ended = False  # an opt-out acts in every state, even after the goodbye (SPEC 7.3)
        return self._act(actions)

    def _act(self, actions: Sequence[Action]) -> list[Command]:
        out: list[Command] = []
        for action in actions:
            if self.ended:
                break
            if isinstance(action, Listen):
                self.listen = action
                out += self._prefetch()
            elif isinstance(action, Say):
                verdict = guard.check(
                    action.text,
                    prohibited=self._prohibited,
                    slots=self.setup.slots,
                    right_party_confirmed=bool(self.state and self.state.right_party_confirmed),
                )
                if not verdict.ok:
                    return [*out, *self._refused(action, verdict)]
                out.append(self._speak(action))
            elif isinstance(action, RecordOptOut):
                self._final = True
                out.append(PersistOptOut(action.scope, action.via))
            elif isinstance(action, EndCall):
                self._final = True
                out.append(self._end(action.outcome))
        return out

    def _refused(self, say: Say, verdict: guard.GuardVerdict) -> list[Command]:
        """The guard refused an utterance: record why, say the safe close, end the call."""
        log.error("guard blocked %s: %s (%s)", say.say_id, verdict.rule, verdict.detail)
        close = SAFE_CLOSE.get(self.setup.locale, SAFE_CLOSE["en-US"])
        detail = {"say_id": say.say_id, "rule": verdict.rule, "detail": verdict.detail}
        return [
            RecordEvent("guard_violation", detail),
            self._speak(Say("guard.safe_close", close, say.state, interruptible=False)),
            self._end("script_error"),
        ]

    def _fail_closed(self) -> list[Command]:
        """The store failed (SPEC 7.8): stop, end politely, acknowledging nothing unrecorded."""
        if self._store_failed:
            return []
        self._store_failed = True
        self.ended = False  # whatever was about to happen, this close replaces it
        close = STORE_DOWN_CLOSE.get(self.setup.locale, STORE_DOWN_CLOSE["en-US"])
        return [
            Interrupt(report=False, reason="fail_closed"),
            self._speak(Say("store.fail_closed", close, "fail_closed", interruptible=False)),
            self._end("store_unavailable"),
        ]

    def _speak(self, say: Say) -> Speak:
        reply, self._reply = self._reply, None
        self.spoken += 1
        self._speaking = True
        return Speak(say, reply)

    def _end(self, outcome: str) -> End:
        self.ended = True
        return End(outcome)

    def _prefetch(self) -> list[Command]:
        if not self._cfg.prerender or self.state is None:
            return []
        texts: list[str] = []
        for _say_id, text in presynth.likely_next_says(self.setup.script, self.state, self.setup.slots):
            texts.extend(split_sentences(text) or [text])
        return [Prefetch(tuple(dict.fromkeys(texts)))] if texts else []

    # --- timers ----------------------------------------------------------------------------------

    def _timer_fired(self, fired: TimerFired) -> list[Command]:
        if self._tokens.get(fired.name) != fired.token or fired.name not in self._armed:
            return []  # restarted or cancelled since
        self._armed.discard(fired.name)
        if fired.name == SCREEN and self._screen is not None and not self._machine:
            return self._verdict(amd.Verdict("unknown", "no verdict before the screen timer"))
        if fired.name == MESSAGE and self._screen is not None and self._machine:
            return self._verdict(self.answered_by or amd.Verdict("voicemail", "machine"))
        if fired.name == MAX_CALL:
            return self._step(MaxDuration())
        if fired.name == NO_INPUT and not self._speaking and not self._in_turn:
            return self._step(NoInput())
        return []

    def _start_timer(self, name: str, seconds: float) -> StartTimer:
        self._tokens[name] = self._tokens.get(name, 0) + 1
        self._armed.add(name)
        return StartTimer(name, seconds, self._tokens[name])

    def _cancel(self, name: str) -> CancelTimer:
        self._armed.discard(name)
        return CancelTimer(name)

    def _settle(self, out: list[Command]) -> list[Command]:
        """Run the no-input timer exactly while the agent is quiet and the customer is not talking."""
        waiting = not self.ended and not self._speaking and not self._in_turn and self._screen is None
        if waiting and NO_INPUT not in self._armed:
            out.append(self._start_timer(NO_INPUT, self._cfg.no_input_ms / 1000))
        elif not waiting and NO_INPUT in self._armed:
            out.append(self._cancel(NO_INPUT))
        return out
