"""CallPolicy alone: pure decisions, plain inputs, no loop, no clock."""

from __future__ import annotations

from agent.asr.base import Transcript
from agent.call import commands as c
from agent.call.contracts import CallSetup
from agent.call.policy import CONTINUATION_S, CallPolicy
from agent.call.signals import (
    AgentQuiet,
    BargeIn,
    Cut,
    HeardTurn,
    NoiseDiscarded,
    SpeechStarted,
    StoreFailed,
    TimerFired,
)
from agent.compliance.guard import ProhibitedRule
from agent.config import CallConfig
from agent.dialogue.events import KeyPress
from agent.nlu.intents import NluResult
from agent.testing.harness import SLOTS, TODAY, script_for


def policy(**config: object) -> CallPolicy:
    setup = CallSetup("c1", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY)
    return CallPolicy(setup, CallConfig(**config))  # type: ignore[arg-type]


def heard(text: str, *, end_at: float = 10.0, ms: int = 800, fast: bool = False,
          overlapped: bool = False, barged_in: bool = False) -> HeardTurn:
    return HeardTurn(Transcript(text, "en", 0.9, ms, 50), 1000, 1000 + ms, end_at, end_at + 0.3,
                     end_at + 0.35, fast, overlapped, barged_in)


def kinds(commands: list[c.Command]) -> list[str]:
    return [type(x).__name__ for x in commands]


def says(commands: list[c.Command]) -> list[str]:
    return [x.say.say_id for x in commands if isinstance(x, c.Speak)]


def answer(p: CallPolicy, text: str, intent: str, **turn: object) -> list[c.Command]:
    t = heard(text, **turn)  # type: ignore[arg-type]
    merged = p.turn_text(t)
    return p.on_understood(t, merged, NluResult(intent, 0.95), 5)


def quiet(p: CallPolicy) -> list[c.Command]:
    return p.on(AgentQuiet(p.spoken))


def test_the_opening_starts_the_max_duration_timer_and_says_the_disclosure_first() -> None:
    p = policy(max_call_s=300)
    out = p.start()
    assert isinstance(out[0], c.StartTimer) and out[0].name == "max_call" and out[0].seconds == 300
    assert says(out) == ["opening.disclosure.0", "opening.disclosure.1", "opening.say.0"]
    assert any(isinstance(x, c.Prefetch) for x in out)
    assert not any(isinstance(x, c.StartTimer) and x.name == "no_input" for x in out)  # the agent speaks


def test_no_input_runs_only_while_the_agent_is_quiet_and_the_customer_silent() -> None:
    p = policy(no_input_ms=6000)
    p.start()
    assert p.on(AgentQuiet(p.spoken - 1)) == []  # a stale report: something newer is still queued
    started = quiet(p)
    assert kinds(started) == ["StartTimer"] and started[0].seconds == 6  # type: ignore[attr-defined]
    assert kinds(p.on(SpeechStarted(overlapped=False))) == ["CancelTimer"]
    restarted = p.on(NoiseDiscarded())
    assert kinds(restarted) == ["StartTimer"]
    token = restarted[0].token  # type: ignore[attr-defined]
    assert p.on(TimerFired("no_input", token - 1)) == []  # a timer since restarted
    reprompt = p.on(TimerFired("no_input", token))
    assert says(reprompt) == ["global.no_input.0", "opening.say.0"]


def test_three_silences_close_the_call() -> None:
    p = policy()
    p.start()
    out: list[c.Command] = []
    for _ in range(3):
        timer = next(x for x in quiet(p) if isinstance(x, c.StartTimer))
        out = p.on(TimerFired("no_input", timer.token))
    assert says(out) == ["no_response_close.say.0"] and isinstance(out[-1], c.End)
    assert out[-1].outcome == "no_response"


def test_max_duration_ends_the_call() -> None:
    p = policy()
    first = p.start()[0]
    assert isinstance(first, c.StartTimer)
    out = p.on(TimerFired("max_call", first.token))
    assert says(out)[0].startswith("global.max_duration") and out[-1] == c.End("max_duration")


def test_barge_in_interrupts_at_once_and_a_cut_disclosure_is_repeated() -> None:
    p = policy()
    p.start()
    assert p.urgent(BargeIn()) == [c.Interrupt(report=True, reason="barge_in")]
    assert p.on(Cut("opening.disclosure.0", heard_ms=300, total_ms=5000)) == []
    out = answer(p, "Yes, this is John.", "affirm", barged_in=True, overlapped=True)
    assert says(out)[:2] == ["opening.disclosure.0", "opening.disclosure.1"]


def test_a_backchannel_is_ignored_but_an_overlapping_opt_out_is_not() -> None:
    p = policy()
    p.start()
    assert answer(p, "uh-huh", "affirm", overlapped=True) == []
    out = answer(p, "stop calling me", "opt_out", overlapped=True)
    assert kinds(out)[:2] == ["Notify", "RecordTurn"]
    assert kinds(out)[2:] == ["PersistOptOut", "Speak", "End"]  # persisted, then confirmed, then ended
    confirm = out[3]
    assert isinstance(confirm, c.Speak) and not confirm.say.interruptible
    assert out[-1] == c.End("opted_out")


def test_noise_is_not_a_turn_unless_it_interrupted() -> None:
    p = policy()
    p.start()
    quiet(p)
    assert kinds(answer(p, "", "unknown")) == []  # the no-input timer already runs
    out = answer(p, "", "unknown", barged_in=True)
    assert says(out)[0] == "global.unknown.0"


def test_the_opt_out_key_opts_out_and_the_answer_is_measured_from_the_turn() -> None:
    p = policy()
    p.start()
    out = p.on(KeyPress("9"))
    persist = [x for x in out if isinstance(x, c.PersistOptOut)]
    assert persist == [c.PersistOptOut("all", "dtmf")] or persist[0].via == "dtmf"
    p2 = policy()
    p2.start()
    reply = answer(p2, "Yes, this is John.", "affirm")
    speaks = [x for x in reply if isinstance(x, c.Speak)]
    assert speaks[0].reply is not None and speaks[1].reply is None  # only the first answers the turn


def test_a_continuation_is_answered_whole_from_the_state_before() -> None:
    p = policy()
    p.start()
    answer(p, "Yes.", "affirm", end_at=10.0, ms=400, fast=True)  # fast end: the reminder starts
    assert p.state is not None and p.state.state == "reminder"
    late = heard("speaking.", end_at=10.0 + CONTINUATION_S / 2 + 0.5, ms=500, barged_in=True, overlapped=True)
    assert p.turn_text(late) == "Yes. speaking."
    assert p.state.state == "opening"  # rewound: the whole answer is answered once


def test_a_continued_turns_runner_ups_keep_what_it_continued() -> None:
    p = policy()
    p.start()
    answer(p, "Please.", "unknown", end_at=10.0, ms=400, fast=True)
    t = Transcript("call me again.", "en", 0.9, 500, 50, runner_ups=("stop calling me.",))
    late = HeardTurn(t, 1000, 1500, 10.0 + CONTINUATION_S / 2 + 0.5, 11.0, 11.05, False, True, True)
    merged = p.turn_text(late)
    assert merged == "Please. call me again."
    assert p.turn_runner_ups(late, merged) == ("Please. stop calling me.",)
    alone = heard("I already paid")
    assert p.turn_runner_ups(alone, p.turn_text(alone)) == ()


def test_no_runner_ups_while_the_opt_out_confirmation_waits_for_its_answer() -> None:
    """A doubt there is honoured at once: a runner-up alone must never persist an opt-out."""
    p = policy()
    p.start()
    first = heard("call me again.")
    p.on_understood(first, p.turn_text(first), NluResult("opt_out", 0.6, {"opt_out_scope": "all"}), 5)
    assert p.state is not None and p.state.confirming is not None
    t = Transcript("no, keep calling.", "en", 0.9, 500, 50, runner_ups=("no, stop calling.",))
    answer_turn = HeardTurn(t, 1000, 1500, 20.0, 20.3, 20.35, False, False, False)
    assert p.turn_runner_ups(answer_turn, p.turn_text(answer_turn)) == ()


def test_a_turn_after_the_window_is_not_a_continuation() -> None:
    p = policy()
    p.start()
    answer(p, "Yes.", "affirm", end_at=10.0, ms=400, fast=True)
    late = heard("I already paid", end_at=10.0 + CONTINUATION_S + 2.0, ms=1000, barged_in=True)
    assert p.turn_text(late) == "I already paid"
    assert p.state is not None and p.state.state == "reminder"


def test_a_guard_refusal_replaces_the_utterance_with_the_safe_close() -> None:
    setup = CallSetup("c1", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY)
    rule = ProhibitedRule("r", "test", ("your payment of",), ())
    p = CallPolicy(setup, CallConfig(), [rule])
    p.start()
    out = answer(p, "Yes, this is John.", "affirm")
    assert kinds(out)[-3:] == ["RecordEvent", "Speak", "End"]  # record why, say the safe close, end
    spoken = says(out)
    assert spoken[-1] == "guard.safe_close" and "reminder.say.1" not in spoken  # the refused sentence
    assert out[-1] == c.End("script_error")


def test_a_store_failure_ends_politely_once() -> None:
    p = policy()
    p.start()
    out = p.on(StoreFailed("disk full"))
    assert out[0] == c.Interrupt(report=False, reason="fail_closed")
    assert says(out) == ["store.fail_closed"] and out[-1] == c.End("store_unavailable")
    assert p.on(StoreFailed("again")) == []


def test_after_the_end_nothing_but_an_opt_out_acts() -> None:
    p = policy()
    p.start()
    answer(p, "No, you have the wrong number.", "wrong_person")
    assert p.ended
    assert says(answer(p, "hello?", "unknown")) == []
    late = p.on(KeyPress("9"))  # the opt-out key, even after the goodbye (SPEC 7.3)
    assert kinds(late) == ["CancelTimer", "PersistOptOut", "Speak", "End"] and late[-1] == c.End("opted_out")
