"""Every demo scenario end to end over the native protocol and through each fake gateway.

Real models, real server on loopback, real-time audio: the simulated customer speaks
through the protocol's fake gateway (Twilio μ-law 8 kHz, jambonz/FreeSWITCH L16, Asterisk
μ-law) and the call must reach the scenario's outcome. Native is covered scenario by scenario
in test_demo_native.py; here the protocol-sensitive scenarios run over every gateway
(barge-in → clear/killAudio/FLUSH_MEDIA, key-press opt-out → DTMF, its confirmation's
mark, then hang-up), plus a whole call over Twilio (μ-law speech heard twice). Real-time
calls are slow: this subset keeps the suite short; the call logic is tested in virtual
time (tests/call); `voice-agent demo --transport X -s NAME` plays any other combination.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agent.bench.audio import key_stop_ms, stretches
from agent.demo.runner import LoopbackServer, run_scenario
from agent.demo.scenarios import SCENARIOS

pytestmark = [pytest.mark.slow, pytest.mark.models]

TRANSPORTS = ("native", "twilio", "jambonz", "freeswitch", "asterisk")
SENSITIVE = ("barge_in", "dtmf_opt_out")
ALL = tuple(SCENARIOS["en-US"])

CASES = [("twilio", s) for s in ("happy_path", *SENSITIVE)] + [
    (t, s) for t in ("jambonz", "freeswitch", "asterisk") for s in SENSITIVE
]


def _number(transport: str, scenario: str) -> int:
    """A fictional number per (transport, scenario), so no call's opt-out blocks another."""
    return 100 + 10 * TRANSPORTS.index(transport) + ALL.index(scenario)


@pytest.mark.parametrize(("transport", "name"), CASES, ids=[f"{t}-{s}" for t, s in CASES])
async def test_scenario_over_transport(transports_e2e_runtime: Any, transport: str, name: str) -> None:
    from agent.server.app import create_app

    runtime = transports_e2e_runtime
    scenario = SCENARIOS["en-US"][name]
    async with LoopbackServer(create_app(runtime)) as server:
        result = await run_scenario(runtime, server, scenario, transport=transport,
                                    number=_number(transport, name))
    report = result.report
    if os.environ.get("E2E_TRANSPORTS_LOG"):  # per-protocol numbers for the closing note
        keep = ("scenario", "transport", "outcome", "voice_to_voice_ms", "barge_in_ms", "barge_ins")
        row = {"transport": transport, **{k: report[k] for k in keep if k in report}}
        with Path(os.environ["E2E_TRANSPORTS_LOG"]).open("a", encoding="utf-8") as out:  # noqa: ASYNC230
            out.write(json.dumps(row) + "\n")
    assert report["outcome"] == scenario.expected_outcome, report
    for key in ("scenario", "locale", "outcome", "turns", "voice_to_voice_ms", "barge_ins"):
        assert key in report
    assert report["turns"] and report["turns"][0]["speaker"] == "agent"
    assert report.get("gateway_errors", []) == [], report["gateway_errors"]
    customer_lines = [s for s in scenario.steps if s.say]
    if customer_lines:
        assert len(report["voice_to_voice_ms"]) >= 1
        assert any(t["speaker"] == "customer" for t in report["turns"])
    if name == "barge_in":
        assert report["barge_ins"] >= 1
        assert len(report["barge_in_ms"]) == 1 and 0 < report["barge_in_ms"][0] < 1500
    if name == "dtmf_opt_out":  # the key interrupts: the rest of the disclosure is never heard
        press = next(float(a["ms"]) for a in result.log.said if "dtmf" in a)
        assert key_stop_ms(stretches(result.log.played), result.log.clears_ms, press) < 1500
    if transport != "native":
        assert result.log.played, "the gateway played no agent audio"
