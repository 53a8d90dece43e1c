"""The listener with its VAD off the loop: verdicts come a little after their frames (the VAD thread).

The same behaviour as with an inline VAD: turns end, the agent is interrupted, silence is
counted by the clock and the no-input timer runs; only later by the VAD's delay.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from agent.call.contracts import CallResult
from agent.config import CallConfig
from agent.testing.fakes import DeferredVadStream, FakeEngines
from agent.testing.harness import CallHarness

pytestmark = pytest.mark.looptime(noop_cycles=0)

DELAY_S = 0.035  # the VAD thread answers a frame and a half late


def _harness(**kw: object) -> CallHarness:
    engines = FakeEngines(vad_delay_s=DELAY_S, **kw)  # type: ignore[arg-type]
    return CallHarness(engines=engines)


async def _confirm_then_promise(call: CallHarness) -> CallResult:
    """The customer confirms who they are, hears the reminder and promises to pay."""
    await call.say("Yes, this is John.")
    await call.agent_said("reminder.say.1")
    await call.agent_quiet()
    await call.say("Yes, I can pay it on Friday.")
    return await call.ended()


async def test_a_turn_ends_and_is_answered() -> None:
    async with _harness() as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        result = await _confirm_then_promise(call)
    assert result.outcome == "promise_to_pay"
    assert [t["intent"] for t in call.customer_turns()] == ["affirm", "promise_to_pay"]
    assert isinstance(call.engines.vad_streams[0], DeferredVadStream)
    # voice to voice counts from when the last speech frame came, so the VAD's delay is in it
    assert len(result.voice_to_voice_ms) == 2 and min(result.voice_to_voice_ms) > DELAY_S * 1000


async def test_a_barge_in_stops_the_agent() -> None:
    async with _harness() as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        reminder = await call.agent_said("reminder.say.0")
        await call.until(lambda: call.out.first_heard(reminder["text"]), what="the reminder plays")
        await asyncio.sleep(1.5)
        onset = call.now()
        await call.say("I already paid it last week.", 1500)
        result = await call.ended()
    assert result.outcome == "already_paid" and result.barge_ins == 1
    clears = call.out.kinds("clear")
    assert len(clears) == 1
    assert clears[0].t - call.t0 - onset < 0.25 + DELAY_S  # the barge-in minimum, a frame or two, the delay


async def test_silence_gets_two_reprompts_then_a_polite_close() -> None:
    async with _harness() as call:
        result = await call.ended()
    assert call.agent_ids().count("global.no_input.0") == 2
    assert result.outcome == "no_response"


async def test_turns_end_by_the_clock_when_the_gateway_sends_nothing() -> None:
    async with CallHarness(engines=FakeEngines(vad_delay_s=DELAY_S), media="suppressed") as call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await asyncio.sleep(12)  # no media at all: the no-input reprompt comes by the clock
        await call.agent_said("global.no_input.0")
        await call.agent_quiet()
        result = await _confirm_then_promise(call)
    assert result.outcome == "promise_to_pay"
    assert call.session is not None and call.session._listener.filled > 0


async def test_every_frame_is_judged_once_in_order_and_none_after_close() -> None:
    call = CallHarness(engines=FakeEngines(vad_delay_s=DELAY_S), config=CallConfig(media_gap_ms=200))
    listener = call._build()._listener
    seen: list[int] = []
    listener._on_frame = lambda frame, speech: seen.append(int(frame[0]))
    for k in range(10):
        listener.feed(np.full(320, k, dtype=np.int16))
    assert listener.frames == 10 and not seen  # submitted; no verdict yet
    await asyncio.sleep(DELAY_S + 0.001)
    assert seen == list(range(10))
    listener.feed(np.full(320, 99, dtype=np.int16))
    await listener.close()
    await asyncio.sleep(DELAY_S * 2)
    assert 99 not in seen  # the call was over before its verdict came
