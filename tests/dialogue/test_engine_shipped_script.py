"""The engine on the shipped en-US repayment script: every state x intent, DTMF, timers, rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from collections.abc import Iterator
from functools import cache

import pytest
from shipped_script import SHIPPED, SLOTS, TODAY

from agent.dialogue.engine import VOICEMAIL_STATE, DialogueState, start, step
from agent.dialogue.events import (
    OUTCOMES,
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
from agent.dialogue.loader import load_script
from agent.dialogue.presynth import all_says, likely_next_says
from agent.dialogue.script import Script
from agent.nlu.intents import INTENTS

SCRIPT: Script = load_script(SHIPPED)
DIGITS = tuple("0123456789*#")
ACCOUNT_WORDS = (
    "one thousand two hundred thirty-four",
    "March fourteenth",
    "1,234",
    "2025-03-14",
    "fifty cents",
)
PROMISE = CustomerTurn("promise_to_pay", 0.95, {"date": "2025-03-21"}, "I'll pay on the twenty first")
DISCLOSURE_IDS = ("opening.disclosure.0", "opening.disclosure.1")


def turn(intent: str, **slots: str) -> CustomerTurn:
    return CustomerTurn(intent, 0.95, slots, intent)


def probe_events() -> Iterator[Event]:
    """Every kind of event, with and without slots, for exploring the script."""
    for intent in INTENTS:
        yield turn(intent)
    yield PROMISE
    yield CustomerTurn("affirm", 0.1, {}, "mumble")
    for digit in DIGITS:
        yield KeyPress(digit)
    yield NoInput()
    for say_id in DISCLOSURE_IDS:
        yield SayInterrupted(say_id, 100, 4000)
        yield SayInterrupted(say_id, 3990, 4000)
    yield SayInterrupted("reminder.say.0", 10, 4000)
    yield MaxDuration()


def key(st: DialogueState) -> tuple[object, ...]:
    return (
        st.state,
        st.right_party_confirmed,
        st.disclosure_pending,
        st.no_input_count,
        st.unknown_count,
        st.ended,
        st.outcome,
        tuple(sorted(st.values.items())),
        tuple(s.say_id for s in st.last_said),
    )


@cache
def explore() -> tuple[
    dict[str, DialogueState], list[tuple[DialogueState, Event, DialogueState, list[Action]]]
]:
    """Breadth-first over every reachable engine state; returns first state per script state and all edges.

    The call begins at the start, or at the voicemail state when a machine answered (US).
    """
    first, _ = start(SCRIPT, SLOTS, today=TODAY)
    machine, _ = start(SCRIPT, SLOTS, today=TODAY, at=VOICEMAIL_STATE)
    seen = {key(first), key(machine)}
    queue = deque([first, machine])
    by_name: dict[str, DialogueState] = {}
    edges: list[tuple[DialogueState, Event, DialogueState, list[Action]]] = []
    while queue:
        st = queue.popleft()
        by_name.setdefault(st.state, st)
        for event in probe_events():
            new, actions = step(SCRIPT, st, event)
            edges.append((st, event, new, actions))
            if key(new) not in seen:
                seen.add(key(new))
                queue.append(new)
    return by_name, edges


def reach(name: str) -> DialogueState:
    return explore()[0][name]


def says(actions: list[Action]) -> list[Say]:
    return [a for a in actions if isinstance(a, Say)]


def text(actions: list[Action]) -> str:
    return " ".join(s.text for s in says(actions))


NON_TERMINAL = [n for n, s in SCRIPT.states.items() if not s.terminal]
TERMINAL = [n for n, s in SCRIPT.states.items() if s.terminal]


# --- reachability and global invariants over every path ---------------------------------


def test_every_state_is_reachable() -> None:
    assert set(explore()[0]) == set(SCRIPT.states)


def test_invariants_on_every_reachable_edge() -> None:
    _, edges = explore()
    assert len(edges) > 1000
    for before, event, after, actions in edges:
        where = f"{before.state} --{event}-->"
        ends = [a for a in actions if isinstance(a, EndCall)]
        if ends:
            assert actions[-1] is ends[0] and len(ends) == 1, where
            assert ends[0].outcome in OUTCOMES and after.ended and after.outcome == ends[0].outcome, where
        elif actions and not before.ended:
            assert isinstance(actions[-1], Listen), where
            assert not after.ended, where
        assert sum(isinstance(a, Listen) for a in actions) <= 1, where
        assert ends or not any(isinstance(a, RecordOptOut) for a in actions), where
        if before.ended and not isinstance(event, CustomerTurn | KeyPress):
            assert actions == [], where
        for say in says(actions):
            assert "{" not in say.text and "}" not in say.text, where
            assert "script_error" != after.outcome, where


def test_account_details_never_said_before_right_party_confirmed() -> None:
    """Over all reachable paths: a Say with amount or due date only once identity is confirmed."""
    _, edges = explore()
    checked = 0
    for before, event, after, actions in edges:
        for say in says(actions):
            if any(word in say.text for word in ACCOUNT_WORDS):
                checked += 1
                assert after.right_party_confirmed, f"{before.state} --{event}--> {say}"
                assert before.right_party_confirmed or SCRIPT.states[say.state].confirms_right_party, say
    assert checked > 0
    first, actions = start(SCRIPT, SLOTS, today=TODAY)
    assert not first.right_party_confirmed
    assert not any(w in text(actions) for w in ACCOUNT_WORDS)


def test_determinism() -> None:
    for name in SCRIPT.states:
        st = reach(name)
        for event in probe_events():
            assert step(SCRIPT, st, event) == step(SCRIPT, st, event)
    assert start(SCRIPT, SLOTS, today=TODAY) == start(SCRIPT, SLOTS, today=TODAY)


# --- the opening ---------------------------------------------------------------------------


def test_start_says_disclosure_first_then_right_party_question() -> None:
    st, actions = start(SCRIPT, SLOTS, today=TODAY)
    assert st.state == "opening" and not st.ended
    kinds = [type(a).__name__ for a in actions]
    assert kinds == ["Say", "Say", "Say", "Listen"]
    first, second, question, listen = actions
    assert isinstance(first, Say) and first.disclosure and "automated AI assistant" in first.text
    assert "Acme Lending" in first.text and "computer-generated voice" in first.text
    assert (
        isinstance(second, Say) and second.disclosure and "stop calling" in second.text and "9" in second.text
    )
    assert (
        isinstance(question, Say)
        and not question.disclosure
        and question.text == "Am I speaking with Jane Doe?"
    )
    assert isinstance(listen, Listen) and "affirm" in listen.expected and listen.hint
    assert listen.complete_answers == ("affirm", "deny", "wrong_person")


@pytest.mark.parametrize(
    ("slots", "match"),
    [
        ({k: v for k, v in SLOTS.items() if k != "amount_due"}, "needs these slots: amount_due"),
        ({**SLOTS, "bogus": "x"}, "not declared"),
        ({**SLOTS, "amount_due": "lots"}, "not an amount"),
        ({**SLOTS, "due_date": "next week"}, "not an ISO date"),
    ],
)
def test_start_rejects_bad_slots(slots: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        start(SCRIPT, slots, today=TODAY)


# --- every state x every canonical intent ---------------------------------------------------

EXPECTED: dict[tuple[str, str], str] = {
    ("opening", "affirm"): "reminder",
    ("opening", "deny"): "wrong_person",
    ("opening", "wrong_person"): "wrong_person",
    ("opening", "callback_later"): "callback_close",
    ("reminder", "affirm"): "confirm_on_time",
    ("reminder", "promise_to_pay"): "ask_date",
    ("reminder", "deny"): "ask_pay_date",
    ("reminder", "hardship"): "hardship_close",
    ("reminder", "already_paid"): "paid_close",
    ("reminder", "dispute"): "dispute_close",
    ("reminder", "callback_later"): "callback_close",
    ("reminder", "wrong_person"): "wrong_person",
    ("ask_pay_date", "promise_to_pay"): "ask_date",
    ("ask_pay_date", "affirm"): "ask_date",
    ("ask_pay_date", "deny"): "refused_close",
    ("ask_pay_date", "hardship"): "hardship_close",
    ("ask_pay_date", "already_paid"): "paid_close",
    ("ask_pay_date", "dispute"): "dispute_close",
    ("ask_pay_date", "callback_later"): "callback_close",
    ("ask_date", "promise_to_pay"): "ask_date",
    ("ask_date", "affirm"): "ask_date",
    ("ask_date", "deny"): "refused_close",
    ("ask_date", "hardship"): "hardship_close",
    ("ask_date", "already_paid"): "paid_close",
    ("ask_date", "dispute"): "dispute_close",
    ("ask_date", "callback_later"): "callback_close",
}
GLOBAL_GOTO = {"complaint": "complaint_close", "request_human": "human_close"}
RESUMING = {"ask_is_ai", "ask_who_is_calling", "repeat"}


@pytest.mark.parametrize("name", NON_TERMINAL)
@pytest.mark.parametrize("intent", INTENTS)
def test_state_by_intent(name: str, intent: str) -> None:
    st = reach(name)
    new, actions = step(SCRIPT, st, turn(intent))
    if intent == "opt_out":
        assert [type(a) for a in actions] == [RecordOptOut, Say, EndCall]
        return
    if (name, intent) in EXPECTED:
        target = EXPECTED[(name, intent)]
        assert new.state == target
        if SCRIPT.states[target].terminal:
            assert actions[-1] == EndCall(SCRIPT.states[target].end or "")
        else:
            assert isinstance(actions[-1], Listen)
            assert [s.state for s in says(actions)] == [target] * len(says(actions))
    elif intent in GLOBAL_GOTO:
        assert new.state == GLOBAL_GOTO[intent] and new.ended
        assert actions[-1] == EndCall(intent)
    elif intent in RESUMING:
        assert new.state == name and not new.ended and isinstance(actions[-1], Listen)
        if intent == "ask_is_ai":
            answer = says(actions)[0]
            assert answer.say_id == "global.ask_is_ai.0"
            assert "automated AI assistant" in answer.text and "not a person" in answer.text
        if intent == "ask_who_is_calling":
            assert "Acme Lending" in text(actions)
    else:
        assert new.state == name and new.unknown_count == st.unknown_count + 1
        assert says(actions)[0].text == "Sorry, I didn't catch that."
        assert isinstance(actions[-1], Listen)


@pytest.mark.parametrize("name", TERMINAL)
@pytest.mark.parametrize("intent", INTENTS)
def test_terminal_states_ignore_everything_but_opt_out(name: str, intent: str) -> None:
    st = reach(name)
    assert st.ended
    new, actions = step(SCRIPT, st, turn(intent))
    if intent == "opt_out":
        assert [type(a) for a in actions] == [RecordOptOut, Say, EndCall]
        assert new.outcome == "opted_out"
    else:
        assert (new, actions) == (st, [])


# --- opt-out: every state, voice and key ----------------------------------------------------


@pytest.mark.parametrize("name", list(SCRIPT.states))
@pytest.mark.parametrize("event", [turn("opt_out"), KeyPress("9"), CustomerTurn("opt_out", 0.8, {}, "stop")])
def test_opt_out_from_every_state(name: str, event: Event) -> None:
    st = reach(name)
    new, actions = step(SCRIPT, st, event)
    assert len(actions) == 3
    record, confirm, end = actions
    assert record == RecordOptOut("all", "dtmf" if isinstance(event, KeyPress) else "voice")
    assert isinstance(confirm, Say) and not confirm.interruptible and not confirm.disclosure
    assert confirm.text == "Understood. We won't call you again. Goodbye."
    assert end == EndCall("opted_out")
    assert new.ended and new.outcome == "opted_out"
    assert step(SCRIPT, new, event) == (new, [])


def test_opt_out_while_disclosure_pending() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, _ = step(SCRIPT, st, SayInterrupted("opening.disclosure.0", 200, 5000))
    _, actions = step(SCRIPT, st, turn("opt_out"))
    assert [type(a) for a in actions] == [RecordOptOut, Say, EndCall]


def test_every_reachable_engine_state_honours_opt_out() -> None:
    _, edges = explore()
    for _, _, after, _ in edges:
        if after.outcome == "opted_out":
            continue
        _, actions = step(SCRIPT, after, KeyPress("9"))
        assert [type(a) for a in actions] == [RecordOptOut, Say, EndCall]


# --- DTMF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NON_TERMINAL)
@pytest.mark.parametrize("digit", DIGITS)
def test_every_digit_in_every_state(name: str, digit: str) -> None:
    st = reach(name)
    new, actions = step(SCRIPT, st, KeyPress(digit))
    if digit == "9":
        assert [type(a) for a in actions] == [RecordOptOut, Say, EndCall]
        return
    mapped = SCRIPT.states[name].dtmf.get(digit)
    if mapped is None:
        assert new.state == name and new.unknown_count == st.unknown_count + 1
        return
    assert actions == step(SCRIPT, st, CustomerTurn(mapped, 1.0, {}, ""))[1]
    assert new.state == EXPECTED[(name, mapped)]


# --- no-input and not-understood limits -----------------------------------------------------


@pytest.mark.parametrize("name", NON_TERMINAL)
def test_no_input_reprompts_twice_then_closes(name: str) -> None:
    st = reach(name)
    for attempt in (1, 2):
        st, actions = step(SCRIPT, st, NoInput())
        assert st.state == name and st.no_input_count == attempt
        assert says(actions)[0].text == "Sorry, I didn't hear anything."
        assert isinstance(actions[-1], Listen)
    st, actions = step(SCRIPT, st, NoInput())
    assert st.state == "no_response_close" and actions[-1] == EndCall("no_response")
    assert "Goodbye" in text(actions)


def test_no_input_counter_resets_after_an_answer() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, _ = step(SCRIPT, st, NoInput())
    st, _ = step(SCRIPT, st, NoInput())
    st, _ = step(SCRIPT, st, turn("affirm"))
    assert st.state == "reminder" and st.no_input_count == 0
    st, _ = step(SCRIPT, st, NoInput())
    assert st.state == "reminder" and st.no_input_count == 1


@pytest.mark.parametrize("name", NON_TERMINAL)
def test_unknown_twice_then_polite_close(name: str) -> None:
    st = reach(name)
    for attempt in (1, 2):
        st, actions = step(SCRIPT, st, turn("unknown"))
        assert st.unknown_count == attempt and isinstance(actions[-1], Listen)
    st, actions = step(SCRIPT, st, turn("unknown"))
    assert st.state == "unclear_close" and actions[-1] == EndCall("not_understood")


def test_low_confidence_counts_as_unknown() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    new, actions = step(SCRIPT, st, CustomerTurn("affirm", 0.2, {}, "mm"))
    assert new.state == "opening" and new.unknown_count == 1
    assert says(actions)[0].say_id == "global.unknown.0"


def test_reprompt_asks_the_state_question_again() -> None:
    st = reach("reminder")
    _, actions = step(SCRIPT, st, NoInput())
    assert [s.say_id for s in says(actions)] == ["global.no_input.0", "reminder.ask.0"]
    assert "one thousand two hundred thirty-four dollars and fifty cents" in says(actions)[1].text


# --- disclosure cannot be interrupted away --------------------------------------------------


@pytest.mark.parametrize("say_id", DISCLOSURE_IDS)
@pytest.mark.parametrize(
    "event",
    [
        turn("affirm"),
        turn("deny"),
        turn("promise_to_pay"),
        turn("complaint"),
        turn("repeat"),
        turn("unknown"),
        NoInput(),
    ],
)
def test_interrupted_disclosure_is_repeated(say_id: str, event: Event) -> None:
    st, opening = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, SayInterrupted(say_id, 300, 4000))
    assert actions == [] and st.disclosure_pending
    st, actions = step(SCRIPT, st, event)
    assert st.state == "opening" and not st.disclosure_pending and not st.right_party_confirmed
    assert [s.say_id for s in says(actions)] == [
        "opening.disclosure.0",
        "opening.disclosure.1",
        "opening.say.0",
    ]
    assert all(s.disclosure for s in says(actions)[:2])
    assert says(actions) == says(opening)
    assert isinstance(actions[-1], Listen)
    st, actions = step(SCRIPT, st, turn("affirm"))
    assert st.state == "reminder"


@pytest.mark.parametrize("say_id", DISCLOSURE_IDS)
@pytest.mark.parametrize(
    ("digit", "state", "then"),
    [("1", "reminder", ["reminder.say.0", "reminder.say.1", "reminder.say.2"]),
     ("2", "wrong_person", ["wrong_person.say.0"]),
     ("5", "opening", ["global.unknown.0", "opening.say.0"])],
)
def test_a_key_after_a_cut_disclosure_is_answered_once_it_is_repeated(
    say_id: str, digit: str, state: str, then: list[str]
) -> None:
    """Type-ahead: the key is not forgotten; the disclosure is said again first, then the key's answer."""
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, _ = step(SCRIPT, st, SayInterrupted(say_id, 300, 4000))
    st, actions = step(SCRIPT, st, KeyPress(digit))
    assert [s.say_id for s in says(actions)] == ["opening.disclosure.0", "opening.disclosure.1", *then]
    assert all(s.disclosure for s in says(actions)[:2])
    assert st.state == state and not st.disclosure_pending
    assert st.right_party_confirmed == (state == "reminder")


def test_ask_is_ai_during_interrupted_disclosure_answers_then_repeats() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, _ = step(SCRIPT, st, SayInterrupted("opening.disclosure.1", 0, 4000))
    st, actions = step(SCRIPT, st, turn("ask_is_ai"))
    ids = [s.say_id for s in says(actions)]
    assert ids == ["global.ask_is_ai.0", "opening.disclosure.0", "opening.disclosure.1", "opening.say.0"]


@pytest.mark.parametrize(
    ("heard", "total", "pending"),
    [
        (3600, 4000, False),
        (4000, 4000, False),
        (3599, 4000, True),
        (0, 4000, True),
        (0, 0, True),
    ],
)
def test_nearly_heard_disclosure_counts_as_heard(heard: int, total: int, pending: bool) -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, _ = step(SCRIPT, st, SayInterrupted("opening.disclosure.0", heard, total))
    assert st.disclosure_pending is pending


def test_interrupting_other_sentences_changes_nothing() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    assert step(SCRIPT, st, SayInterrupted("opening.say.0", 10, 2000)) == (st, [])


# --- flows ---------------------------------------------------------------------------------------


def run(*events: Event) -> tuple[DialogueState, list[list[Action]]]:
    st, actions = start(SCRIPT, SLOTS, today=TODAY)
    out = [actions]
    for event in events:
        st, actions = step(SCRIPT, st, event)
        out.append(actions)
    return st, out


def test_promise_with_date_confirms_date_and_closes() -> None:
    st, out = run(turn("affirm"), PROMISE)
    assert st.outcome == "promise_to_pay" and st.values["promise_date"] == "2025-03-21"
    assert "March twenty-first" in text(out[-1]) and "Goodbye" in text(out[-1])


def test_promise_without_date_asks_for_one() -> None:
    st, out = run(turn("affirm"), turn("deny"), turn("promise_to_pay"))
    assert st.state == "ask_date" and text(out[-1]) == "What date works for you?"
    st, actions = step(SCRIPT, st, PROMISE)
    assert st.outcome == "promise_to_pay" and "March twenty-first" in text(actions)


def test_unreadable_captured_date_is_ignored() -> None:
    st, _ = run(turn("affirm"))
    st, _ = step(SCRIPT, st, CustomerTurn("promise_to_pay", 0.9, {"date": "someday"}, "someday"))
    assert st.state == "ask_date" and "promise_date" not in st.values


def test_wrong_person_hears_only_company_and_callback_request() -> None:
    st, out = run(turn("deny"))
    assert st.outcome == "wrong_person"
    spoken = text(out[-1])
    assert "Acme Lending" in spoken and "eight zero zero" in spoken
    assert not any(w in spoken for w in ACCOUNT_WORDS)


def test_repeat_says_the_last_utterance_again() -> None:
    st, out = run(turn("affirm"))
    st, actions = step(SCRIPT, st, turn("repeat"))
    assert says(actions)[0].text == "Sure."
    assert says(actions)[1:] == says(out[-1])
    st, again = step(SCRIPT, st, turn("repeat"))
    assert says(again) == says(actions)


def test_max_duration_closes_politely() -> None:
    st, out = run(turn("affirm"), MaxDuration())
    assert st.outcome == "max_duration" and "Goodbye" in text(out[-1])


def test_hardship_offers_callback_number() -> None:
    st, out = run(turn("affirm"), turn("hardship"))
    assert (
        st.outcome == "hardship" and "hardship team" in text(out[-1]) and "eight zero zero" in text(out[-1])
    )


def test_outcomes_of_the_shipped_script_are_known() -> None:
    outcomes = {s.end for s in SCRIPT.states.values() if s.end}
    assert outcomes <= set(OUTCOMES)
    assert {"promise_to_pay", "wrong_person", "no_response", "already_paid"} <= outcomes


# --- pre-synthesis helpers ---------------------------------------------------------------------


def test_likely_next_says_covers_transitions_and_opt_out() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    ids = [i for i, _ in likely_next_says(SCRIPT, st, SLOTS)]
    for say_id in (
        "reminder.say.0",
        "wrong_person.say.0",
        "global.opt_out.0",
        "global.ask_is_ai.0",
        "global.no_input.0",
        "global.unknown.0",
        "callback_close.say.0",
    ):
        assert say_id in ids
    assert len(ids) == len(set(ids))
    assert likely_next_says(SCRIPT, st) == likely_next_says(SCRIPT, st)


def test_likely_next_says_texts_match_what_the_engine_says() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    predicted = dict(likely_next_says(SCRIPT, st))
    _, actions = step(SCRIPT, st, turn("affirm"))
    for say in says(actions):
        assert predicted[say.say_id] == say.text


def test_all_says_renders_every_sentence_it_can() -> None:
    out = dict(all_says(SCRIPT, SLOTS, today=TODAY))
    assert "opening.disclosure.0" in out and "global.opt_out.0" in out
    assert "confirm_promise.say.0" not in out  # needs the customer's date
    assert "confirm_promise.say.0" in dict(all_says(SCRIPT, {**SLOTS, "promise_date": "2025-03-21"}))
    _, edges = explore()
    for _, _, _, actions in edges:
        for say in says(actions):
            if "promise_date" not in say.say_id and say.say_id in out:
                assert out[say.say_id] == say.text


def test_state_is_frozen() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.state = "x"  # type: ignore[misc]
    assert isinstance(st.today, dt.date)
