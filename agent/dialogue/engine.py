"""The pure dialogue engine: (state, event) -> (new state, actions), deterministic, no I/O.

Rules enforced whatever the script says:
- opt-out (intent or the opt-out key) in every state, even after the goodbye:
  RecordOptOut (with the NLU's scope: 'voice' for "only email me"), one non-interruptible
  confirmation Say, EndCall('opted_out'), nothing else;
- a doubtful opt-out (confidence below OPT_OUT_CERTAIN) gets the script's one confirmation
  question (`global.confirm_opt_out`): yes (or any opt-out) opts out as above, no resumes the
  current state's question, silence or an unclear answer re-asks it up to its `limit` and then
  resumes, anything else is handled as in the state; a script without the question, or a
  call already ended, honours the doubtful opt-out at once;
- `ask_is_ai` always gets the script's truthful answer first;
- a disclosure Say cut off before `disclosure_heard_ratio` of it was heard is repeated: until
  then a spoken turn is only handled for opt_out (and ask_is_ai, answered first); a key press
  is never forgotten: it is answered right after the repeated disclosure (type-ahead), and a
  key pressed while the disclosure plays answers the question after it;
- no Say uses an account-detail slot before a `confirms_right_party` state was entered
  (if a script would, the call ends at once with outcome 'script_error');
- no-input and unknown replies: reprompt `limit` times (default 2), then the handler's goto/end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

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
from agent.dialogue.normalize import NormalizeError, normalize_value
from agent.dialogue.render import render, render_sentences, template_slots
from agent.dialogue.script import Handler, Script
from agent.nlu.intents import OPT_OUT_CERTAIN, OPT_OUT_SCOPE_SLOT, Intent

__all__ = ["DEFAULT_LIMIT", "VOICEMAIL_STATE", "DialogueState", "start", "step"]

DEFAULT_LIMIT = 2
"""Reprompts (no-input or not understood) before the handler's close, per SPEC 4.3."""

VOICEMAIL_STATE = "voicemail"
"""The state a call enters instead of `start` when an answering machine took it and the
jurisdiction leaves a message (US Reg F's limited-content message; lint rule `voicemail-content`)."""


@dataclass(frozen=True, slots=True)
class DialogueState:
    """Where a call is in its script, plus the counters and flags the rules need."""

    state: str
    values: Mapping[str, str]
    today: dt.date
    right_party_confirmed: bool = False
    disclosure_pending: bool = False
    no_input_count: int = 0
    unknown_count: int = 0
    last_said: tuple[Say, ...] = ()
    ended: bool = False
    outcome: str | None = None
    turns: int = 0
    confirming: str | None = None
    """While the opt-out confirmation question waits for an answer: the doubtful opt-out's scope."""
    confirm_count: int = 0


@dataclass(slots=True)
class _Turn:
    """Builds one step's actions; refuses account details before the right party is confirmed."""

    script: Script
    st: DialogueState
    actions: list[Action] = field(default_factory=list)
    unsafe: bool = False

    def say(
        self,
        state: str,
        say_id: str,
        template: str,
        *,
        disclosure: bool = False,
        interruptible: bool = True,
        reveals: bool = False,
    ) -> None:
        """Render and queue one sentence."""
        if not self.st.right_party_confirmed and (
            reveals or set(template_slots(template)) & self.script.account_slots
        ):
            self.unsafe = True
            return
        values, types, today = self.st.values, self.script.slot_types, self.st.today
        locale = self.script.meta.locale
        text = render(template, values, types, locale, today)
        sentences = render_sentences(template, values, types, locale, today)
        self.actions.append(Say(say_id, text, state, interruptible, disclosure, sentences))

    def say_handler(self, handler: Handler, say_id: str) -> None:
        """Queue a handler's sentences."""
        for i, text in enumerate(handler.say):
            self.say(self.st.state, f"{say_id}.{i}", text)

    def update(self, **changes: object) -> None:
        """Replace fields of the state being built."""
        self.st = dataclasses.replace(self.st, **changes)  # type: ignore[arg-type]

    def says(self) -> tuple[Say, ...]:
        """The Say actions queued so far."""
        return tuple(a for a in self.actions if isinstance(a, Say))

    def finish(self, *, remember: bool = True) -> tuple[DialogueState, list[Action]]:
        """Close the step: a refused account detail ends the call instead of saying it."""
        if self.unsafe:
            return dataclasses.replace(self.st, ended=True, outcome="script_error"), [EndCall("script_error")]
        if remember and self.says():
            self.update(last_said=self.says())
        return self.st, self.actions


def _enter(turn: _Turn, name: str) -> None:
    """Enter a state: follow `needs`, mark right party, say its sentences, then end or listen."""
    script = turn.script
    for _ in range(len(script.states) + 1):
        missing = [target for slot, target in script.states[name].needs.items() if slot not in turn.st.values]
        if not missing:
            break
        name = missing[0]
    else:
        turn.unsafe = True
        return
    spec = script.states[name]
    turn.update(
        state=name,
        no_input_count=0,
        unknown_count=0,
        disclosure_pending=False,
        right_party_confirmed=turn.st.right_party_confirmed or spec.confirms_right_party,
    )
    reveals = spec.reveals_account_details
    for i, text in enumerate(spec.disclosure):
        turn.say(name, f"{name}.disclosure.{i}", text, disclosure=True, reveals=reveals)
    for i, text in enumerate(spec.say):
        turn.say(name, f"{name}.say.{i}", text, interruptible=spec.interruptible, reveals=reveals)
    if spec.end is not None:
        turn.actions.append(EndCall(spec.end))
        turn.update(ended=True, outcome=spec.end)
    else:
        _listen(turn)


def _listen(turn: _Turn) -> None:
    """Tell the session what the next customer turn is expected to be."""
    spec = turn.script.states[turn.st.state]
    expected = tuple(dict.fromkeys([*spec.expect, *spec.dtmf.values()]))
    complete = spec.complete_answers if spec.complete_answers is not None else tuple(spec.expect)
    turn.actions.append(Listen(expected, ", ".join(spec.hint) or None, complete))


def _reask(turn: _Turn) -> None:
    """Ask the current state's question again (`ask`, else its `say`), then listen."""
    name = turn.st.state
    spec = turn.script.states[name]
    field_name, texts = ("ask", spec.ask) if spec.ask else ("say", spec.say)
    for i, text in enumerate(texts):
        turn.say(
            name,
            f"{name}.{field_name}.{i}",
            text,
            interruptible=spec.interruptible,
            reveals=spec.reveals_account_details,
        )
    _listen(turn)


def _redisclose(turn: _Turn, *, reask: bool = True) -> None:
    """Repeat the disclosure (it was cut off), then (unless told not to) the current state's question."""
    start = turn.script.start
    for i, text in enumerate(turn.script.states[start].disclosure):
        turn.say(start, f"{start}.disclosure.{i}", text, disclosure=True)
    turn.update(disclosure_pending=False)
    if reask:
        _reask(turn)


def _opt_out(
    script: Script, st: DialogueState, via: str, scope: str | None = None
) -> tuple[DialogueState, list[Action]]:
    """Record first, confirm in one sentence that cannot be interrupted, hang up."""
    handler = script.globals.opt_out
    st = dataclasses.replace(st, ended=True, outcome="opted_out", disclosure_pending=False, confirming=None)
    text = render(handler.say[0], st.values, script.slot_types, script.meta.locale, st.today)
    confirm = Say("global.opt_out.0", text, st.state, interruptible=False, disclosure=False)
    recorded = scope if scope and handler.scope == "all" else handler.scope  # "voice": only that medium
    return st, [
        RecordOptOut(recorded, "dtmf" if via == "dtmf" else "voice"),
        confirm,
        EndCall("opted_out"),
    ]


def _scope_of(event: CustomerTurn) -> str:
    return event.slots.get(OPT_OUT_SCOPE_SLOT) or "all"


def _ask_confirm(
    script: Script, state: DialogueState, scope: str, count: int
) -> tuple[DialogueState, list[Action]]:
    """Ask the one confirmation question and listen for yes or no."""
    handler = script.globals.confirm_opt_out
    turn = _Turn(script, dataclasses.replace(state, confirming=scope, confirm_count=count))
    turn.say(state.state, "global.confirm_opt_out.0", handler.say[0])
    answers = (Intent.AFFIRM.value, Intent.DENY.value)
    turn.actions.append(Listen(answers, ", ".join(handler.hint) or None, answers))
    return turn.finish()


def _answer_confirm(
    script: Script, state: DialogueState, event: Event
) -> tuple[DialogueState, list[Action]] | None:
    """The customer's answer to the confirmation question; None: handle the event as in the state."""
    scope = state.confirming or "all"
    if isinstance(event, CustomerTurn):
        intent = event.intent if event.confidence >= script.settings.min_confidence else Intent.UNKNOWN
        if intent in (Intent.AFFIRM, Intent.OPT_OUT):
            return _opt_out(script, state, "voice", _scope_of(event) if intent == Intent.OPT_OUT else scope)
        if intent == Intent.DENY:
            return _resume(script, state)
        if intent not in (Intent.UNKNOWN, Intent.REPEAT):
            return None
    elif not isinstance(event, NoInput):
        return None
    if state.confirm_count < script.globals.confirm_opt_out.limit:
        return _ask_confirm(script, state, scope, state.confirm_count + 1)
    return _resume(script, state)


def _resume(script: Script, state: DialogueState) -> tuple[DialogueState, list[Action]]:
    """No opt-out after all: the script goes on where it was (its question, or the disclosure)."""
    turn = _Turn(script, dataclasses.replace(state, confirming=None, confirm_count=0, turns=state.turns + 1))
    if state.disclosure_pending:
        _redisclose(turn)
    else:
        _reask(turn)
    return turn.finish()


def _limited(turn: _Turn, kind: str, local: Handler | None, count_field: str) -> None:
    """No-input or not-understood: reprompt up to the limit, then close via goto/end."""
    glob: Handler = getattr(turn.script.globals, kind)
    handler = local or glob
    limit = next((h.limit for h in (local, glob) if h is not None and h.limit is not None), DEFAULT_LIMIT)
    count = getattr(turn.st, count_field) + 1
    if count > limit:
        close = handler if not handler.resumes else glob
        if close.goto is not None:
            _enter(turn, close.goto)
        else:
            turn.actions.append(EndCall(close.end or "completed"))
            turn.update(ended=True, outcome=close.end or "completed")
        return
    prefix = f"{turn.st.state}.{kind if kind == 'no_input' else 'fallback'}" if local else f"global.{kind}"
    turn.say_handler(handler, prefix)
    _reask(turn)
    turn.update(**{count_field: count})


def _run_handler(turn: _Turn, handler: Handler, say_id: str) -> None:
    """Say a global handler's sentences, then goto, end, or ask the current question again."""
    turn.say_handler(handler, say_id)
    if handler.goto is not None:
        _enter(turn, handler.goto)
    elif handler.end is not None:
        turn.actions.append(EndCall(handler.end))
        turn.update(ended=True, outcome=handler.end)
    else:
        _reask(turn)


def _intent(turn: _Turn, intent: str) -> tuple[DialogueState, list[Action]]:
    """Route one understood intent in the current state."""
    script = turn.script
    spec = script.states[turn.st.state]
    if intent == "ask_is_ai":
        turn.say_handler(script.globals.ask_is_ai, "global.ask_is_ai")
        if "ask_is_ai" in spec.expect:
            _enter(turn, spec.expect["ask_is_ai"])
        else:
            _reask(turn)
        return turn.finish()
    if intent in spec.expect:
        _enter(turn, spec.expect[intent])
        return turn.finish()
    if intent == "repeat":
        turn.say_handler(script.globals.repeat, "global.repeat")
        turn.actions.extend(turn.st.last_said)
        _listen(turn)
        return turn.finish(remember=False)
    if intent in ("complaint", "ask_who_is_calling", "request_human"):
        _run_handler(turn, getattr(script.globals, intent), f"global.{intent}")
        return turn.finish()
    _limited(turn, "unknown", spec.fallback, "unknown_count")
    return turn.finish()


def _capture(script: Script, st: DialogueState, slots: Mapping[str, str]) -> DialogueState:
    """Keep customer-given slot values the script captures, if they can be read aloud."""
    values = dict(st.values)
    for name, source in script.captured_slots.items():
        if source in slots:
            try:
                normalize_value(slots[source], script.slots[name].type, script.meta.locale, st.today)
            except NormalizeError:
                continue
            values[name] = slots[source]
    return dataclasses.replace(st, values=values) if values != st.values else st


def start(
    script: Script, slots: Mapping[str, str], *, today: dt.date, at: str | None = None
) -> tuple[DialogueState, list[Action]]:
    """Begin a call: check the slot values, say the opening (disclosure first), listen.

    `at` begins in another state than the script's start (VOICEMAIL_STATE for a machine).
    """
    unknown = sorted(set(slots) - set(script.slots))
    if unknown:
        raise ValueError(f"slots not declared by script {script.meta.id}: {', '.join(unknown)}")
    missing = sorted(n for n, s in script.slots.items() if s.required and n not in slots)
    if missing:
        raise ValueError(f"script {script.meta.id} needs these slots: {', '.join(missing)}")
    for name, value in slots.items():
        normalize_value(value, script.slots[name].type, script.meta.locale, today)
    first = at or script.start
    if first not in script.states:
        raise ValueError(f"script {script.meta.id} has no state {first!r}")
    turn = _Turn(script, DialogueState(state=first, values=dict(slots), today=today))
    _enter(turn, first)
    return turn.finish()


def step(script: Script, state: DialogueState, event: Event) -> tuple[DialogueState, list[Action]]:
    """Advance the call by one event; after the call ended only an opt-out still acts."""
    if isinstance(event, CustomerTurn) and event.intent == Intent.OPT_OUT:
        if state.outcome == "opted_out":
            return state, []
        doubtful = event.confidence < OPT_OUT_CERTAIN and state.confirming is None
        if doubtful and not state.ended and script.globals.confirm_opt_out.say:
            return _ask_confirm(script, state, _scope_of(event), 0)
        return _opt_out(script, state, "voice", event.slots.get(OPT_OUT_SCOPE_SLOT) or state.confirming)
    if isinstance(event, KeyPress) and event.digit == script.opt_out_key:
        return _opt_out(script, state, "dtmf") if state.outcome != "opted_out" else (state, [])
    if state.ended:
        return state, []
    if isinstance(event, SayInterrupted):
        return _interrupted(script, state, event), []
    if state.confirming is not None:
        answered = _answer_confirm(script, state, event)
        if answered is not None:
            return answered
        state = dataclasses.replace(state, confirming=None, confirm_count=0)
    turn = _Turn(script, dataclasses.replace(state, turns=state.turns + 1))
    if isinstance(event, MaxDuration):
        _run_handler(turn, script.globals.max_duration, "global.max_duration")
        return turn.finish()
    spec = script.states[state.state]
    keyed = isinstance(event, KeyPress)
    if isinstance(event, KeyPress):
        event = CustomerTurn(spec.dtmf.get(event.digit, "unknown"), 1.0, {}, f"<dtmf {event.digit}>")
    if isinstance(event, NoInput):
        if state.disclosure_pending:
            _redisclose(turn)
            return turn.finish()
        _limited(turn, "no_input", spec.no_input, "no_input_count")
        return turn.finish()
    turn.st = _capture(script, turn.st, event.slots)
    intent = event.intent if event.confidence >= script.settings.min_confidence else "unknown"
    if state.disclosure_pending:
        if keyed:  # type-ahead: the key answers the question, once the disclosure has been said again
            _redisclose(turn, reask=False)
            return _intent(turn, intent)
        if intent == "ask_is_ai":
            turn.say_handler(script.globals.ask_is_ai, "global.ask_is_ai")
        _redisclose(turn)
        return turn.finish()
    return _intent(turn, intent)


def _interrupted(script: Script, state: DialogueState, event: SayInterrupted) -> DialogueState:
    """A disclosure sentence cut off before it was (nearly) all heard must be said again."""
    start_state = script.start
    ids = {f"{start_state}.disclosure.{i}" for i in range(len(script.states[start_state].disclosure))}
    if event.say_id not in ids:
        return state
    heard_enough = (
        event.total_ms > 0 and event.heard_ms >= event.total_ms * script.settings.disclosure_heard_ratio
    )
    return state if heard_enough else dataclasses.replace(state, disclosure_pending=True)
