"""Type-ahead: a key pressed while the agent speaks answers the question it asks, and is never lost.

The policy is pure (no loop, no clock): "while the agent speaks" is the state between a Speak
and the AgentQuiet that reports it played, so these run in virtual time.
"""

from __future__ import annotations

from agent.call import commands as c
from agent.call.contracts import CallSetup
from agent.call.policy import CallPolicy
from agent.call.signals import AgentQuiet, Cut, TimerFired
from agent.config import CallConfig
from agent.dialogue.events import KeyPress
from agent.testing.harness import SLOTS, TODAY, script_for

OPENING = ["opening.disclosure.0", "opening.disclosure.1", "opening.say.0"]
REMINDER = ["reminder.say.0", "reminder.say.1", "reminder.say.2"]


def policy() -> CallPolicy:
    setup = CallSetup("c1", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY)
    return CallPolicy(setup, CallConfig())


def says(commands: list[c.Command]) -> list[str]:
    return [x.say.say_id for x in commands if isinstance(x, c.Speak)]


def press(p: CallPolicy, digit: str) -> tuple[list[c.Interrupt], list[c.Command]]:
    """What the shell does with a key: the urgent part at once, then the queued item."""
    return p.urgent(KeyPress(digit)), p.on(KeyPress(digit))


def silence(p: CallPolicy) -> list[c.Command]:
    """The agent's speech has played and the no-input timer runs out."""
    started = p.on(AgentQuiet(p.spoken))
    timer = next(x for x in started if isinstance(x, c.StartTimer) and x.name == "no_input")
    return p.on(TimerFired("no_input", timer.token))


def test_a_key_during_the_disclosure_answers_the_question_after_it() -> None:
    p = policy()
    assert says(p.start()) == OPENING
    urgent, out = press(p, "1")  # the disclosure is still playing: nothing said yet was cut
    assert urgent == []  # a key that does not end the call lets the disclosure play on
    assert says(out) == REMINDER  # queued behind the opening: heard once the disclosure has been
    assert p.state is not None and p.state.state == "reminder" and p.state.right_party_confirmed


def test_a_key_during_a_cut_disclosure_is_answered_after_the_disclosure_is_said_again() -> None:
    p = policy()
    p.start()
    assert p.on(Cut("opening.disclosure.0", heard_ms=300, total_ms=5000)) == []  # the customer spoke over it
    urgent, out = press(p, "1")
    assert urgent == []
    assert says(out) == ["opening.disclosure.0", "opening.disclosure.1", *REMINDER]  # not forgotten
    assert p.state is not None and p.state.state == "reminder" and not p.state.disclosure_pending


def test_a_key_that_ends_the_call_during_a_cut_disclosure_still_hears_it_first() -> None:
    p = policy()
    p.start()
    p.on(Cut("opening.disclosure.1", heard_ms=100, total_ms=4000))
    urgent, out = press(p, "2")  # not me: it ends the call, so it stops the agent at once
    assert urgent == [c.Interrupt(report=False, reason="key")]
    assert says(out) == ["opening.disclosure.0", "opening.disclosure.1", "wrong_person.say.0"]
    assert out[-1] == c.End("wrong_person")


def test_a_key_during_the_question_answers_it() -> None:
    p = policy()
    p.start()
    p.on(AgentQuiet(p.spoken))  # the opening has played
    _, out = press(p, "1")  # in the pause after "Am I speaking with John Smith?"
    assert says(out) == REMINDER
    urgent, out = press(p, "1")  # during "Will you be able to make that payment?": yes, ends the call
    assert urgent == [c.Interrupt(report=False, reason="key")]
    assert says(out) == ["confirm_on_time.say.0", "confirm_on_time.say.1"]
    assert out[-1] == c.End("promise_to_pay")


def test_a_key_during_a_reprompt_answers_the_question_it_asks_again() -> None:
    p = policy()
    p.start()
    assert says(silence(p)) == ["global.no_input.0", "opening.say.0"]  # "Sorry, I didn't hear anything."
    _, out = press(p, "1")  # while the reprompt plays
    assert says(out) == REMINDER
    assert says(silence(p)) == ["global.no_input.0", "reminder.ask.0"]  # the next question, in its state
    assert p.state is not None and p.state.state == "reminder" and p.state.no_input_count == 1


def test_every_key_pressed_while_the_agent_speaks_is_answered_in_order() -> None:
    p = policy()
    p.start()
    _, first = press(p, "1")  # during the disclosure: yes, it's me
    _, second = press(p, "1")  # still during the opening: yes, I'll pay
    assert says(first) == REMINDER
    assert says(second) == ["confirm_on_time.say.0", "confirm_on_time.say.1"]
    assert second[-1] == c.End("promise_to_pay")
