"""Engine rules on small hand-made scripts: the account-detail guard, overrides, fallbacks."""

from __future__ import annotations

import datetime as dt

from agent.dialogue.engine import start, step
from agent.dialogue.events import CustomerTurn, EndCall, Listen, NoInput, Say
from agent.dialogue.loader import load_script_text

BASE = """\
meta: {id: t, use_case: t, locale: en-US, version: 1, jurisdiction: US, purpose: servicing}
slots: {name: name, amount: money}
start: opening
states:
  opening:
    disclosure: This is an automated AI assistant. Press 9 to stop.
    say: Is this {name}?
    expect: {affirm: details, deny: leak, request_human: human}
    no_input: {say: "Still there?", limit: 1}
    fallback: {say: Say yes or no., limit: 0, goto: bye}
  details:
    confirms_right_party: true
    say: You owe {amount}.
    end: completed
  leak:
    say: Someone owes {amount}.
    end: wrong_person
  human:
    say: Call us.
    end: request_human
  bye:
    say: Bye.
    end: not_understood
global:
  opt_out: {say: Done.}
  ask_is_ai: {say: "Yes, an AI."}
  ask_who_is_calling: {say: Us.}
  complaint: {end: complaint}
  request_human: {say: Not here., goto: bye}
  unknown: {say: Pardon., goto: bye}
  no_input: {say: Hello there., goto: bye}
  max_duration: {end: max_duration}
"""
SCRIPT = load_script_text(BASE)
TODAY = dt.date(2025, 1, 1)
SLOTS = {"name": "Al", "amount": "$5"}


def turn(intent: str) -> CustomerTurn:
    return CustomerTurn(intent, 0.9, {}, intent)


def test_guard_refuses_account_details_before_right_party() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, turn("deny"))
    assert actions == [EndCall("script_error")] and st.outcome == "script_error"


def test_account_details_after_confirmation() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, turn("affirm"))
    assert [a.text for a in actions if isinstance(a, Say)] == ["You owe five dollars."]
    assert st.right_party_confirmed


def test_state_overrides_global_intent() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, turn("request_human"))
    assert st.state == "human" and actions[-1] == EndCall("request_human")


def test_state_no_input_limit_and_global_close() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, NoInput())
    assert [a.say_id for a in actions if isinstance(a, Say)] == ["opening.no_input.0", "opening.say.0"]
    assert isinstance(actions[-1], Listen)
    st, actions = step(SCRIPT, st, NoInput())
    assert st.state == "bye" and actions[-1] == EndCall("not_understood")


def test_state_fallback_limit_zero_closes_at_once() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, turn("hardship"))
    assert st.state == "bye" and [a for a in actions if isinstance(a, Say)][0].text == "Bye."


def test_global_end_handler() -> None:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    st, actions = step(SCRIPT, st, turn("complaint"))
    assert actions == [EndCall("complaint")] and st.outcome == "complaint"


def test_disclosure_true_flag_script() -> None:
    old = "    disclosure: This is an automated AI assistant. Press 9 to stop.\n    say: Is this {name}?\n"
    text = BASE.replace(
        old, "    disclosure: true\n    say: ['This is an automated AI assistant.', 'Is this {name}?']\n"
    )
    script = load_script_text(text)
    _, actions = start(script, SLOTS, today=TODAY)
    assert [a.disclosure for a in actions if isinstance(a, Say)] == [True, True]


def test_custom_opt_out_key() -> None:
    from agent.dialogue.events import KeyPress, RecordOptOut

    script = load_script_text(
        BASE.replace("opt_out: {say: Done.}", "opt_out: {say: Done., key: '*', scope: lender}")
    )
    st, _ = start(script, SLOTS, today=TODAY)
    _, actions = step(script, st, KeyPress("*"))
    assert actions[0] == RecordOptOut("lender", "dtmf")
    _, actions = step(script, st, KeyPress("9"))
    assert not any(isinstance(a, RecordOptOut) for a in actions)
