"""The call session end to end in virtual time: real script, rules NLU and guard; fake engines.

Written against the session's behaviour before the CallPolicy/shell split, and kept
unchanged through it (issue 14): turn-taking, barge-in, timers and compliance ordering.
"""

from __future__ import annotations

import asyncio

import pytest

from agent.config import CallConfig
from agent.testing.fakes import FakeEngines, FakeOutput, FakeRecorder
from agent.testing.harness import CallHarness

pytestmark = pytest.mark.looptime(noop_cycles=0)


async def test_happy_path_reaches_a_promise_to_pay() -> None:
    async with CallHarness() as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        await call.agent_said("reminder.say.1")
        await call.agent_quiet()
        await call.say("Yes, I can pay it on Friday.")
        result = await call.ended()
    assert result.outcome == "promise_to_pay"
    assert call.agent_ids()[0] == "opening.disclosure.0"
    assert [t["intent"] for t in call.customer_turns()] == ["affirm", "promise_to_pay"]
    assert len(result.voice_to_voice_ms) == 2
    assert call.out.hangup_reason == "promise_to_pay"


async def _past_the_greeting(call: CallHarness) -> None:
    await call.agent_said("opening.say.0")
    await call.agent_quiet()


async def test_barge_in_stops_the_agent_and_answers_the_interruption() -> None:
    async with CallHarness() as call:
        await _past_the_greeting(call)
        await call.say("Yes, this is John.")
        reminder = await call.agent_said("reminder.say.0")
        await call.until(lambda: call.out.first_heard(reminder["text"]), what="the reminder plays")
        await asyncio.sleep(1.5)  # well into the reminder: not a continuation of the last answer
        onset = call.now()
        await call.say("I already paid it last week.", 1500)
        result = await call.ended()
    assert result.outcome == "already_paid" and result.barge_ins == 1
    clears = call.out.kinds("clear")
    assert len(clears) == 1
    assert clears[0].t - call.t0 - onset < 0.25  # the barge-in minimum, plus a frame or two
    barge = call.out.of_type("barge_in")[0]
    assert barge["say_id"] == "reminder.say.0" and 1000 < barge["heard_ms"] < 2000
    # nothing of the cut utterance went out after the clear
    assert not [s for s in call.out.kinds("audio") if s.t >= clears[0].t and s.data == reminder["text"]]


@pytest.mark.parametrize(("speech_ms", "barges"), [(140, False), (400, True)])
async def test_barge_in_needs_the_minimum_duration(speech_ms: int, barges: bool) -> None:
    async with CallHarness(config=CallConfig(barge_in_min_ms=180, min_turn_ms=120)) as call:
        await _past_the_greeting(call)
        await call.say("Yes, this is John.")
        reminder = await call.agent_said("reminder.say.0")
        await call.until(lambda: call.out.first_heard(reminder["text"]))
        await asyncio.sleep(1.5)
        await call.say("Mm hmm.", speech_ms)
        await call.agent_said("reminder.say.1")
        call.hang_up()
        result = await call.ended()
    assert bool(call.out.kinds("clear")) is barges
    assert result.barge_ins == (1 if barges else 0)


async def test_a_backchannel_while_the_agent_speaks_is_not_a_turn() -> None:
    async with CallHarness() as call:
        await _past_the_greeting(call)
        await call.say("Yes, this is John.")
        reminder = await call.agent_said("reminder.say.0")
        await call.until(lambda: call.out.first_heard(reminder["text"]))
        await asyncio.sleep(1.5)
        await call.say("Uh-huh.", 150)  # over min_turn_ms, under barge_in_min_ms
        await call.agent_said("reminder.say.1")
        await call.agent_quiet()
        await call.say("Yes, I can pay it on Friday.")
        result = await call.ended()
    assert result.outcome == "promise_to_pay"
    said = [t["text"] for t in call.customer_turns()]
    assert said == ["Yes, this is John.", "Yes, I can pay it on Friday."]
    assert not call.out.kinds("clear")


async def test_an_opt_out_spoken_over_the_agent_is_never_taken_for_a_backchannel() -> None:
    config = CallConfig(barge_in_min_ms=10_000)  # nothing interrupts: the opt-out is an overlap
    async with CallHarness(config=config) as call:
        await call.agent_said("opening.disclosure.0")
        await call.until(lambda: call.out.heard())
        await call.say("Please stop calling me.", 1200)
        result = await call.ended()
    assert result.outcome == "opted_out"
    assert call.recorder.of("opt_out")


async def test_a_customer_who_pauses_mid_answer_is_answered_whole() -> None:
    async with CallHarness() as call:
        await _past_the_greeting(call)
        await call.say("Yes.", 400)
        await call.silence(500)  # fast end of turn fires; the reminder starts
        await call.say("speaking.", 600)  # ... and the customer goes on, barging in
        await call.until(lambda: call.agent_ids().count("reminder.say.0") == 2, 10, "answered again")
        call.hang_up()
        await call.ended()
    turns = call.customer_turns()
    assert turns[-1]["text"] == "Yes. speaking." and turns[-1]["intent"] == "affirm"
    assert call.out.of_type("barge_in")[0]["say_id"] == "reminder.say.0"  # cut off, then said again


async def test_a_disclosure_cut_off_is_said_again() -> None:
    async with CallHarness(engines=FakeEngines(ms_per_sentence=3000)) as call:
        first = await call.agent_said("opening.disclosure.0")
        await call.until(lambda: call.out.first_heard(first["text"]))
        await call.say("Yes, this is John.", 900)
        await call.until(lambda: call.agent_ids().count("opening.disclosure.0") == 2, what="re-disclosed")
        call.hang_up()
        await call.ended()
    ids = call.agent_ids()
    assert call.out.of_type("barge_in")[0]["say_id"] == "opening.disclosure.0"
    again = ids.index("opening.disclosure.0", 1)
    assert "opening.say.0" in ids[again:]  # then the question is asked again


async def test_silence_gets_two_reprompts_then_a_polite_close() -> None:
    async with CallHarness() as call:
        result = await call.ended()
    ids = call.agent_ids()
    assert ids.count("global.no_input.0") == 2
    assert ids[-1].startswith("no_response_close")
    assert result.outcome == "no_response"
    # each reprompt came no sooner than no_input_ms after the agent stopped
    events = call.out.of_type("agent")
    first = next(e for e in events if e["say_id"] == "global.no_input.0")
    assert first["t"] - call.t0 >= 3 + CallConfig().no_input_ms / 1000


async def test_the_call_ends_at_its_maximum_duration() -> None:
    config = CallConfig(max_call_s=12, no_input_ms=60_000)
    async with CallHarness(config=config) as call:
        result = await call.ended()
    assert result.outcome == "max_duration"
    assert call.agent_ids()[-1].startswith("global.max_duration")
    assert call.out.of_type("agent")[-1]["t"] - call.t0 >= 12


@pytest.mark.parametrize("via", ["voice", "dtmf"])
async def test_an_opt_out_is_persisted_before_it_is_confirmed(via: str) -> None:
    recorder = FakeRecorder(opt_out_delay_s=0.6)
    async with CallHarness(recorder=recorder) as call:
        await _past_the_greeting(call)
        if via == "voice":
            await call.say("Please stop calling me.", 1200)
        else:
            call.press("9")
        result = await call.ended()
    assert result.outcome == "opted_out"
    (persisted_at, (_scope, how)), = recorder.of("opt_out")
    assert how == via
    confirm = call.out.of_type("agent")[-1]
    assert confirm["say_id"] == "global.opt_out.0"
    assert confirm["t"] >= persisted_at
    assert call.out.first_heard(confirm["text"]) >= persisted_at  # type: ignore[operator]
    assert call.out.of_type("opt_out")[0]["t"] >= persisted_at
    assert len(call.out.of_type("agent")) == 4  # the greeting, then one confirmation: nothing else
    turns = [args for _t, args in recorder.of("turn")]
    keyed = [i for i, (who, text, *_rest) in enumerate(turns) if (who, text) == ("customer", "<dtmf 9>")]
    if via == "dtmf":  # the stored transcript shows the key where it came, before the confirmation
        assert len(keyed) == 1 and turns[keyed[0] + 1][:2] == ("agent", confirm["text"])
    else:
        assert keyed == []


async def test_a_guard_refusal_says_the_safe_close_and_ends_the_call() -> None:
    from agent.compliance.guard import ProhibitedRule

    rule = ProhibitedRule("test_rule", "a phrase this test forbids", ("your payment of",), ())
    async with CallHarness(prohibited=[rule]) as call:
        await _past_the_greeting(call)
        await call.say("Yes, this is John.")
        result = await call.ended()
    assert result.outcome == "script_error"
    lines = call.agent_lines()
    assert not any("your payment of" in line for line in lines)
    assert call.agent_ids()[-1] == "guard.safe_close"
    events = [args for _, args in call.recorder.of("event") if args[0] == "guard_violation"]
    assert events and events[0][1]["rule"] == "prohibited_content"


async def test_a_store_that_fails_mid_call_ends_it_politely() -> None:
    recorder = FakeRecorder(fail_after_s=float("inf"))
    async with CallHarness(recorder=recorder) as call:
        await _past_the_greeting(call)
        recorder.fail_after_s = 0.0  # from now on every write fails
        await call.say("Yes, this is John.")
        result = await call.ended()
    assert result.outcome == "store_unavailable"
    assert call.agent_ids()[-1] == "store.fail_closed"
    assert not any("noted" in line for line in call.agent_lines())


async def test_a_store_down_at_the_start_starts_no_call() -> None:
    async with CallHarness(recorder=FakeRecorder(fail_after_s=0.0)) as call:
        result = await call.ended()
    assert result.outcome == "store_unavailable"
    assert not call.out.kinds("audio") and not call.agent_lines()


@pytest.mark.parametrize("echo", [True, False])
async def test_the_goodbye_plays_out_before_the_hang_up(echo: bool) -> None:
    config = CallConfig(goodbye_grace_ms=3000)
    out = FakeOutput(echo_marks=echo)
    async with CallHarness(output=out, config=config) as call:
        out.markers = call.engines.markers
        await _past_the_greeting(call)
        await call.say("No, you have the wrong number.")
        result = await call.ended()
    assert result.outcome == "wrong_person"
    hangup = out.kinds("hangup")[0].t
    goodbye = out.of_type("agent")[-1]["text"]
    last_frame = max(out.heard_of(goodbye))
    assert hangup >= last_frame + 0.02  # the goodbye's last frame has played
    if echo:
        marks = [s for s in out.kinds("mark")]
        assert marks and hangup - last_frame < 0.5
    else:
        assert hangup - last_frame >= 2.5  # no mark came back: waited out the grace


# --- real lines (issue 11): gateways that send nothing while the customer is quiet ----------------


@pytest.mark.parametrize("media", ["suppressed", "bursty"])
async def test_turns_end_by_the_clock_when_the_gateway_sends_no_silence(media: str) -> None:
    harness = CallHarness(media="suppressed") if media == "suppressed" else CallHarness(burst_frames=5)
    async with harness as call:
        await _past_the_greeting(call)
        await asyncio.sleep(12)  # a 12 s gap in the media: the customer thinks it over (no-input reprompt)
        await call.agent_said("global.no_input.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        await call.agent_said("reminder.say.1")
        await call.agent_quiet()
        await asyncio.sleep(3)
        await call.say("Yes, I can pay it on Friday.")
        result = await call.ended()
    assert result.outcome == "promise_to_pay"
    assert [t["intent"] for t in call.customer_turns()] == ["affirm", "promise_to_pay"]
    assert call.session is not None
    assert len(result.voice_to_voice_ms) == 2 and max(result.voice_to_voice_ms) < 600  # as on a live line


# --- what the real-time e2e suite used to cover call by call (tests/e2e keeps a few real calls) ---


async def test_a_wrong_person_hears_no_account_detail() -> None:
    async with CallHarness() as call:
        await _past_the_greeting(call)
        await call.say("No, you have the wrong number.")
        result = await call.ended()
    assert result.outcome == "wrong_person"
    said = " ".join(call.agent_lines())
    assert "thousand" not in said and "December" not in said  # no amount, no due date
    assert "Acme Finance" in said  # the company and a callback request only


async def test_asked_whether_it_is_a_robot_the_agent_answers_truthfully_then_goes_on() -> None:
    async with CallHarness() as call:
        await _past_the_greeting(call)
        await call.say("Wait, am I talking to a robot?")
        await call.agent_said("global.ask_is_ai")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        await call.agent_said("reminder.say.1")
        await call.agent_quiet()
        await call.say("Yes, I can pay it on Friday.")
        result = await call.ended()
    assert result.outcome == "promise_to_pay"
    answer = next(e["text"] for e in call.out.of_type("agent") if e["say_id"].startswith("global.ask_is_ai"))
    assert "AI" in answer and "not a person" in answer


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_call_opens_with_the_disclosure_and_how_to_stop(locale: str) -> None:
    async with CallHarness(locale=locale) as call:
        await call.agent_said("opening.say.0")
        call.hang_up()
        await call.ended()
    first, second = call.agent_lines()[:2]
    assert ("AI" in first) if locale == "en-US" else ("人工智能" in first)
    assert "9" in second


async def test_an_opt_out_only_a_runner_up_heard_is_asked_then_honoured_on_yes() -> None:
    """The recogniser's best reading lost the "don't"; its runner-up kept it: the agent asks first."""
    engines = FakeEngines()
    engines.runner_ups["call me again."] = ("Call me again.", "Don't call me again.")
    async with CallHarness(engines=engines) as call:
        await _past_the_greeting(call)
        await call.say("call me again.")
        await call.agent_said("global.confirm_opt_out.0")
        assert not call.recorder.of("opt_out")  # a runner-up alone persists nothing
        await call.agent_quiet()
        await call.say("Yes.")
        result = await call.ended()
    assert result.outcome == "opted_out" and call.recorder.of("opt_out")
    assert [t["intent"] for t in call.customer_turns()] == ["opt_out", "affirm"]
