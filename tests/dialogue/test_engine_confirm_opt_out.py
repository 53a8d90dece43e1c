"""Confirm on doubt (SPEC 6.2a) in the pure engine: every answer to the question, in every state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from shipped_script import ROOT, SHIPPED, SLOTS, TODAY

from agent.dialogue.engine import DialogueState, start, step
from agent.dialogue.events import (
    CustomerTurn,
    EndCall,
    KeyPress,
    Listen,
    MaxDuration,
    NoInput,
    RecordOptOut,
    Say,
    SayInterrupted,
)
from agent.dialogue.lint_confirm import check_confirm
from agent.dialogue.linter import lint_text
from agent.dialogue.loader import load_script, load_script_text
from agent.dialogue.presynth import likely_next_says
from agent.dialogue.script import Script
from agent.nlu.intents import GLOBAL_INTENTS, OPT_OUT_CERTAIN, OPT_OUT_SCOPE_SLOT

SCRIPT: Script = load_script(SHIPPED)
DOUBT = CustomerTurn("opt_out", OPT_OUT_CERTAIN - 0.15, {OPT_OUT_SCOPE_SLOT: "all"}, "you keep calling me")
SURE = CustomerTurn("opt_out", 0.95, {}, "stop calling me")
SCRIPTS = sorted((ROOT / "prompts").glob("*/*.yaml"))
SCRIPT_FILES = [p for p in SCRIPTS if "global:" in p.read_text(encoding="utf-8")]


def _opened() -> DialogueState:
    st, _ = start(SCRIPT, SLOTS, today=TODAY)
    return st


def _in(state: str) -> DialogueState:
    return dataclasses.replace(_opened(), state=state, right_party_confirmed=True)


def _asking(state: str = "reminder") -> DialogueState:
    st, _ = step(SCRIPT, _in(state), DOUBT)
    assert st.confirming == "all"
    return st


LISTENING = [n for n, s in SCRIPT.states.items() if s.end is None]


@pytest.mark.parametrize("name", LISTENING)
def test_doubtful_opt_out_asks_the_one_question_and_records_nothing(name: str) -> None:
    st, actions = step(SCRIPT, _in(name), DOUBT)
    says = [a for a in actions if isinstance(a, Say)]
    assert [s.say_id for s in says] == ["global.confirm_opt_out.0"]
    assert says[0].text == "Would you like us to stop calling you?"
    assert not any(isinstance(a, RecordOptOut | EndCall) for a in actions)
    assert isinstance(actions[-1], Listen) and set(actions[-1].expected) == {"affirm", "deny"}
    assert st.state == name and not st.ended


@pytest.mark.parametrize("name", LISTENING)
@pytest.mark.parametrize("yes", [CustomerTurn("affirm", 0.95), CustomerTurn("opt_out", 0.5), SURE])
def test_yes_records_first_then_confirms_and_hangs_up(name: str, yes: CustomerTurn) -> None:
    st, actions = step(SCRIPT, _asking(name), yes)
    assert isinstance(actions[0], RecordOptOut) and actions[0].via == "voice"
    assert isinstance(actions[1], Say) and actions[1].say_id == "global.opt_out.0"
    assert not actions[1].interruptible
    assert actions[2] == EndCall("opted_out") and len(actions) == 3
    assert st.ended and st.outcome == "opted_out" and st.confirming is None


@pytest.mark.parametrize("name", LISTENING)
def test_no_resumes_the_script_where_it_was(name: str) -> None:
    before = _in(name)
    st, actions = step(SCRIPT, _asking(name), CustomerTurn("deny", 0.95))
    assert st.state == name and st.confirming is None and not st.ended
    assert not any(isinstance(a, RecordOptOut) for a in actions)
    reasked = [a.say_id for a in actions if isinstance(a, Say)]
    spec = SCRIPT.states[name]
    field = "ask" if spec.ask else "say"
    assert reasked == [f"{name}.{field}.{i}" for i in range(len(spec.ask or spec.say))]
    assert isinstance(actions[-1], Listen)
    assert st.values == before.values


def test_silence_or_unclear_reasks_up_to_the_limit_then_resumes() -> None:
    st = _asking()
    for event in (NoInput(), CustomerTurn("unknown", 0.0)):
        again, actions = step(SCRIPT, st, event)
        assert [a.say_id for a in actions if isinstance(a, Say)] == ["global.confirm_opt_out.0"]
        assert again.confirming == "all" and again.confirm_count == 1
        resumed, actions = step(SCRIPT, again, event)
        assert resumed.confirming is None and resumed.state == "reminder"
        assert "global.confirm_opt_out.0" not in [a.say_id for a in actions if isinstance(a, Say)]
        assert not any(isinstance(a, RecordOptOut) for a in actions)


def test_repeat_asks_the_question_again() -> None:
    _, actions = step(SCRIPT, _asking(), CustomerTurn("repeat", 0.95))
    assert [a.say_id for a in actions if isinstance(a, Say)] == ["global.confirm_opt_out.0"]


def test_another_answer_is_handled_as_in_the_state() -> None:
    st, actions = step(SCRIPT, _asking("reminder"), CustomerTurn("already_paid", 0.95))
    assert st.state == "paid_close" and st.outcome == "already_paid" and st.confirming is None
    assert not any(isinstance(a, RecordOptOut) for a in actions)


def test_barge_in_on_the_question_keeps_waiting_for_the_answer() -> None:
    st = _asking()
    st2, actions = step(SCRIPT, st, SayInterrupted("global.confirm_opt_out.0", 300, 2000))
    assert actions == [] and st2.confirming == "all"
    _, actions = step(SCRIPT, st2, CustomerTurn("affirm", 0.9))
    assert isinstance(actions[0], RecordOptOut)


def test_the_opt_out_key_and_max_duration_still_act_while_asking() -> None:
    _, actions = step(SCRIPT, _asking(), KeyPress(SCRIPT.opt_out_key))
    assert isinstance(actions[0], RecordOptOut) and actions[0].via == "dtmf"
    st, actions = step(SCRIPT, _asking(), MaxDuration())
    assert st.outcome == "max_duration" and st.confirming is None


def test_a_certain_opt_out_is_never_asked_about() -> None:
    _, actions = step(SCRIPT, _in("reminder"), SURE)
    assert isinstance(actions[0], RecordOptOut)
    assert "global.confirm_opt_out.0" not in [a.say_id for a in actions if isinstance(a, Say)]


def test_a_doubt_after_the_goodbye_is_honoured_at_once() -> None:
    ended = dataclasses.replace(_in("reminder"), ended=True, outcome="promise_to_pay")
    _, actions = step(SCRIPT, ended, DOUBT)
    assert isinstance(actions[0], RecordOptOut)


def test_without_the_question_a_doubt_is_honoured_at_once() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    head, _, rest = text.partition("  confirm_opt_out:")
    rest = rest.split("\n", 3)[3]  # drop the handler's say and hint lines
    bare = load_script_text(head + rest, "bare.yaml")
    assert not bare.globals.confirm_opt_out.say
    st, _ = start(bare, SLOTS, today=TODAY)
    _, actions = step(bare, st, DOUBT)
    assert isinstance(actions[0], RecordOptOut)
    findings = list(check_confirm(bare, ROOT / "prompts"))
    assert [f.rule for f in findings] == ["opt-out-confirm-missing"]


@pytest.mark.parametrize("scope", ["voice", "all"])
def test_the_nlu_scope_reaches_the_record(scope: str) -> None:
    turn = CustomerTurn("opt_out", 0.95, {OPT_OUT_SCOPE_SLOT: scope}, "only email me")
    _, actions = step(SCRIPT, _in("reminder"), turn)
    assert actions[0] == RecordOptOut(scope, "voice")
    doubt = dataclasses.replace(DOUBT, slots={OPT_OUT_SCOPE_SLOT: scope})
    st, _ = step(SCRIPT, _in("reminder"), doubt)
    _, actions = step(SCRIPT, st, CustomerTurn("affirm", 0.9))
    assert actions[0] == RecordOptOut(scope, "voice")


def test_pre_synthesis_includes_the_question() -> None:
    ids = [i for i, _ in likely_next_says(SCRIPT, _in("reminder"), SLOTS)]
    assert "global.confirm_opt_out.0" in ids


@pytest.mark.parametrize("path", SCRIPT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_script_has_the_question_and_lints_clean(path: Path) -> None:
    script = load_script(path)
    assert script.globals.confirm_opt_out.say
    assert list(check_confirm(script, ROOT / "prompts")) == []


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("Would you like us to stop calling you? We have a great offer.", "single question"),
        ("Would you like us to stop calling you, or hear about our offer instead?", "nothing else"),
        ("Are you sure?", "stop calling"),
        ("Shall we stop calling you about {amount_due}?", "nothing else"),
        ("We will stop calling you.", "single question"),
    ],
)
def test_the_linter_says_when_the_question_says_anything_else(question: str, problem: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "say: Would you like us to stop calling you?", f"say: {question}"
    )
    found = lint_text(text, str(SHIPPED), ROOT / "prompts")
    findings = [f for f in found if f.rule.startswith("opt-out-confirm")]
    assert [f.rule for f in findings] == ["opt-out-confirm-wording"]
    assert problem in findings[0].message


def test_the_global_intents_all_have_global_handlers() -> None:
    fields = set(type(SCRIPT.globals).model_fields)
    assert set(GLOBAL_INTENTS) <= fields
