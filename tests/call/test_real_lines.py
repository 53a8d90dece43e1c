"""Issue 11 in virtual time: synthesis by need, key presses that interrupt, no dead air."""

from __future__ import annotations

import asyncio

import pytest

from agent.config import CallConfig
from agent.testing.fakes import FakeEngines, FakeOutput, FakeRecorder
from agent.testing.harness import CallHarness

pytestmark = pytest.mark.looptime(noop_cycles=0)


def first_audio(call: CallHarness) -> float:
    heard = call.out.heard()
    assert heard, "the customer heard nothing"
    return heard[0][0] - call.t0


async def test_the_greeting_never_waits_behind_prerendering() -> None:
    engines = FakeEngines(workers=1, synth_delay_s=0.2)
    call = CallHarness(engines=engines)
    for i in range(40):  # a cold start: every slot-free sentence of every script queued to warm
        call.cache.prefetch("en-US", f"Warm-up sentence number {i}.")
    for text in ("Am I speaking with John Smith?",):  # ... even the greeting's own sentence
        call.cache.prefetch("en-US", text)
    async with call:
        await call.agent_said("opening.say.0")
        await call.until(lambda: call.out.heard(), 10)
        call.hang_up()
    assert first_audio(call) < 0.5  # one synthesis (+ at most one low job on the one worker)
    assert call.cache.promoted == 1  # the waited-for pre-render went high


async def test_the_sentence_heard_soonest_is_synthesised_first_across_calls() -> None:
    engines = FakeEngines(workers=1, synth_delay_s=0.25, ms_per_sentence=2000)
    a = CallHarness(engines=engines, call_id="a", output=FakeOutput(markers=engines.markers))
    b = CallHarness(engines=engines, call_id="b", output=FakeOutput(markers=engines.markers))
    async with a:
        await asyncio.sleep(0.1)  # call a has three sentences queued; b's first is needed now
        async with b:
            await b.until(lambda: b.out.heard(), 10)
            b.hang_up()
        a.hang_up()
    assert first_audio(b) - 0.1 < 0.6  # after a's first sentence only, not after all three


async def test_a_slow_sentence_shows_as_a_gap_inside_the_agent_turn() -> None:
    slow = "This is a reminder that your payment"
    engines = FakeEngines(synth_delay_for=lambda text: 5.0 if text.startswith(slow) else 0.05)
    async with CallHarness(engines=engines, config=CallConfig(prerender=False)) as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        last = await call.agent_said("reminder.say.1")
        await call.until(lambda: call.out.first_heard(last["text"]), what="the question is heard")
        await call.agent_quiet()
        call.hang_up()
        result = await call.ended()
    played = call.out.of_type("played")
    assert played[0]["longest_gap_ms"] == 0  # the greeting played without a gap
    # the reply's units before the slow one played, then dead air; the report says where it was
    assert played[-1]["longest_gap_ms"] >= 500
    assert "| 'This is a reminder that your payment of'" in played[-1]["longest_gap_at"]
    assert max(result.turn_gaps_ms) >= 500


@pytest.mark.parametrize(("key", "interrupts"), [("9", True), ("2", True), ("1", False)])
async def test_a_final_key_stops_the_agent_at_once(key: str, interrupts: bool) -> None:
    recorder = FakeRecorder(opt_out_delay_s=0.05)
    async with CallHarness(recorder=recorder, engines=FakeEngines(ms_per_sentence=4000)) as call:
        first = await call.agent_said("opening.disclosure.0")
        await call.until(lambda: call.out.first_heard(first["text"]))
        await asyncio.sleep(1.0)  # well into the disclosure
        pressed = asyncio.get_running_loop().time()
        call.press(key)
        await asyncio.sleep(1.0)
        call.hang_up()
        await call.ended()
    clears = call.out.kinds("clear")
    if not interrupts:
        assert not clears  # "1" (yes) is an answer, not an end: the agent goes on
        return
    assert clears and clears[0].t - pressed < 0.03  # the gateway is told at once
    greeting = call.out.heard_of(first["text"])  # its clauses: nothing was rendered before this call
    assert max(greeting) - pressed < 0.1  # nothing of the greeting is heard after the key
    if key == "9":
        (persisted_at, _), = recorder.of("opt_out")
        assert call.out.first_heard(call.agent_lines()[-1]) >= persisted_at  # type: ignore[operator]


async def test_an_opt_out_key_pressed_during_the_goodbye_is_still_persisted() -> None:
    async with CallHarness(engines=FakeEngines(ms_per_sentence=3000)) as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("No, you have the wrong number.")
        goodbye = await call.agent_said("wrong_person")
        await call.until(lambda: call.out.first_heard(goodbye["text"]))
        call.press("9")  # SPEC 7.3: the opt-out key acts in every state, even after the goodbye
        result = await call.ended()
    assert call.recorder.of("opt_out") and result.outcome == "opted_out"
    assert call.agent_ids()[-1] == "global.opt_out.0"  # confirmed once the goodbye had played
    assert len(call.out.kinds("hangup")) == 1
