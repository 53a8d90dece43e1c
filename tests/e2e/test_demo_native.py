"""Demo scenarios end to end over a real WebSocket on loopback, with real models.

The simulated customer speaks Piper audio paced in real time; the agent hears it only
through VAD + ASR. Each call goes through the pre-call gate first. Real-time calls are
kept to one per concern the fakes cannot show (real speech through VAD, ASR and NLU; a
real barge-in; the opt-out in the store): the call logic itself — silence, a wrong
person, "are you a robot", key presses, timers, ordering — is covered scenario by
scenario in virtual time (tests/call/test_session_flow.py, test_real_lines.py).
"""

from __future__ import annotations

import pytest

from agent.demo.runner import LoopbackServer, run_scenario
from agent.demo.scenarios import SCENARIOS
from agent.server.app import create_app

pytestmark = [pytest.mark.models, pytest.mark.slow]

DISCLOSURE_WORDS = ("AI", "automated")


REAL_TIME = ("happy_path", "barge_in")  # opt_out: the test below; the rest: tests/call


@pytest.mark.parametrize("name", REAL_TIME)
async def test_scenario_reaches_its_outcome(call_runtime: object, name: str) -> None:
    scenario = SCENARIOS["en-US"][name]
    async with LoopbackServer(create_app(call_runtime)) as server:
        result = await run_scenario(call_runtime, server, scenario, locale="en-US")
    report = result.report
    assert report["outcome"] == scenario.expected_outcome, report
    agent_turns = [t for t in report["turns"] if t["speaker"] == "agent"]
    assert any(w in agent_turns[0]["text"] for w in DISCLOSURE_WORDS)  # AI disclosure comes first
    assert "press 9" in " ".join(t["text"] for t in agent_turns[:3])
    if scenario.expected_outcome == "opted_out":
        after = agent_turns[-1]["text"]
        assert len(after.split()) <= 12  # one short confirmation, nothing else
        assert report["opt_out_persist_ms"], "the opt-out was persisted before the confirmation"
    if name == "barge_in":
        assert report["barge_ins"] >= 1 and report["barge_in_ms"]
    if name in ("happy_path", "ask_is_ai"):
        assert report["voice_to_voice_ms"], "voice-to-voice was measured"
    if name == "wrong_person":
        said = " ".join(t["text"] for t in agent_turns)
        assert "1,234" not in said and "thousand" not in said  # no debt details to a third party


async def test_the_opt_out_is_in_the_store_and_refuses_the_next_call(call_runtime: object) -> None:
    from agent.demo.runner import request_call

    scenario = SCENARIOS["en-US"]["opt_out"]
    number = 171  # a number of its own: the parametrised opt_out call already suppressed its one
    async with LoopbackServer(create_app(call_runtime)) as server:
        result = await run_scenario(call_runtime, server, scenario, locale="en-US", number=number)
        assert result.report["outcome"] == "opted_out"
        with pytest.raises(RuntimeError, match="suppressed"):
            await request_call(server.base, "dev-key-change-me", "en-US", "repayment_reminder", number)
    call = call_runtime.store.get_call(result.report["call_id"])  # type: ignore[attr-defined]
    assert call.outcome == "opted_out"
    assert call_runtime.store.verify_audit()[0]  # type: ignore[attr-defined]
