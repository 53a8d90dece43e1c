"""Answer screening through the real session in virtual time: the listener's frames, beeps and words decide.

The customer's microphone (agent/testing/harness.py) carries scripted speech whose VAD
flags and words the fake engines read back, and real tones for a voicemail beep.
"""

from __future__ import annotations

import numpy as np
import pytest

from agent.testing.harness import CallHarness

pytestmark = pytest.mark.looptime(noop_cycles=0)


def beep(hz: float = 1000.0, ms: int = 400) -> np.ndarray:
    t = np.arange(16 * ms) / 16000
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def screened(call: CallHarness) -> list[dict[str, object]]:
    return [args[1] for _, args in call.recorder.of("event") if args[0] == "answered_by"]


async def test_a_person_who_says_hello_hears_the_disclosure_and_the_hello_is_no_turn() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        await call.silence(300)
        await call.say("Hello?", 500)
        said = await call.agent_said("opening.disclosure.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        await call.agent_said("reminder.say.0")
        call.hang_up()
        await call.ended()
    assert [v["kind"] for v in screened(call)] == ["live"]
    assert said["start_ms"] >= 300 + 500 + 800  # after the hello and the pause that says "a person"
    assert [t["intent"] for t in call.customer_turns()] == ["affirm"]  # "Hello?" was evidence only
    assert "global.unknown.0" not in call.agent_ids()


async def test_nothing_is_said_before_the_verdict() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        await call.silence(300)
        await call.say("Hello?", 500)
        await call.agent_said("opening.disclosure.0")
        call.hang_up()
        await call.ended()
    kinds = [(k, args[0]) for _, k, args in call.recorder.writes if k in ("event", "turn")]
    first_agent = kinds.index(("turn", "agent"))
    assert ("event", "answered_by") in kinds[:first_agent]


async def test_a_us_voicemail_gets_only_the_limited_content_message_after_the_beep() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        await call.silence(200)
        await call.say("Hi, you've reached John. Please leave a message after the tone.", 3000)
        await call.silence(300)
        beep_end = await call.play(beep())
        result = await call.ended()
    assert result.outcome == "voicemail" and call.out.hangup_reason == "voicemail"
    assert call.agent_ids() == ["voicemail.say.0", "voicemail.say.1", "voicemail.say.2"]
    heard = " ".join(call.agent_lines())
    assert "Jordan Lee" in heard and "five five five" in heard  # the callback number, read out
    for secret in ("John", "Acme", "thousand", "March", "AI", "payment"):
        assert secret not in heard
    first = call.out.first_heard(call.agent_lines()[0])
    assert first is not None and first >= beep_end  # recorded after the beep, not over the greeting
    assert [v["kind"] for v in screened(call)] == ["voicemail"]


async def test_a_cn_voicemail_is_hung_up_on_without_a_word() -> None:
    async with CallHarness(locale="zh-CN", screen=True, jurisdiction="CN") as call:
        await call.silence(200)
        await call.say("您好，我现在不方便接听，请在提示音后留言", 2500)
        result = await call.ended()
    assert result.outcome == "voicemail" and call.agent_lines() == [] and not call.out.kinds("audio")


async def test_a_carrier_announcement_ends_with_its_result_and_no_word() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        await call.silence(200)
        await call.say("We're sorry. The number you have dialed is not in service. Please check the number.",
                       4000)
        result = await call.ended()
    assert result.outcome == "not_in_service" and call.agent_lines() == []
    assert [v["kind"] for v in screened(call)] == ["carrier"]


async def test_silence_is_a_person_after_the_analysis_time() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        said = await call.agent_said("opening.disclosure.0")
        call.hang_up()
        await call.ended()
    assert [v["kind"] for v in screened(call)] == ["unknown"]
    assert said["start_ms"] >= 4000


async def test_a_hang_up_while_screening_is_recorded_as_no_conversation() -> None:
    async with CallHarness(screen=True, jurisdiction="US") as call:
        await call.silence(600)
        call.hang_up()
        result = await call.ended()
    assert result.outcome == "hangup_before_verdict" and call.agent_lines() == []


async def test_on_a_silence_suppressed_line_the_pause_after_hello_is_counted_by_the_clock() -> None:
    async with CallHarness(screen=True, jurisdiction="US", media="suppressed") as call:
        await call.say("Hello?", 500)
        said = await call.agent_said("opening.disclosure.0")
        call.hang_up()
        await call.ended()
    assert [v["kind"] for v in screened(call)] == ["live"]  # not the screen timer's "unknown"
    assert said["start_ms"] < 4000
