"""Per-connection budgets (messages, real-time audio) and rate-limited anomaly logging (issue 12.5)."""

from __future__ import annotations

import logging

import pytest

from agent.transports.anomalies import AnomalyLog, _ProcessLimiter
from agent.transports.base import ProtocolError
from agent.transports.budget import AUDIO_BURST_S, MESSAGE_BURST, ConnectionBudget


def test_a_real_time_stream_and_its_jitter_bursts_fit_the_budget() -> None:
    budget = ConnectionBudget(0.0)
    t = 0.0
    for i in range(50 * 120):  # two minutes of 20 ms frames, every 50th frame held back and burst
        t = i * 0.02 if i % 50 else i * 0.02 + 0.3
        budget.message(t)
        assert budget.audio(0.02, t)
    backlog = t + 2.5  # a 2.5 s network stall: its backlog arrives at once
    for _ in range(125):
        budget.message(backlog)
        assert budget.audio(0.02, backlog)
    assert budget.dropped_s == 0


def test_audio_faster_than_real_time_is_dropped_beyond_the_burst() -> None:
    budget = ConnectionBudget(0.0)
    fed = sum(0.02 for _ in range(1500) if budget.audio(0.02, 0.5))  # 30 s of audio in one instant
    assert fed == pytest.approx(AUDIO_BURST_S, abs=0.03)
    assert budget.dropped_s == pytest.approx(30 - fed, abs=0.03)
    assert budget.audio(0.02, 10.0)  # real time refills it


def test_a_silence_suppressed_line_earns_no_credit_for_a_later_flood() -> None:
    budget = ConnectionBudget(0.0)
    fed = sum(0.02 for _ in range(500) if budget.audio(0.02, 60.0))  # a minute of silence, then 10 s at once
    assert fed == pytest.approx(AUDIO_BURST_S, abs=0.03)


def test_a_peer_that_keeps_flooding_audio_is_closed() -> None:
    budget = ConnectionBudget(0.0, max_dropped_s=5.0)
    with pytest.raises(ProtocolError) as closed:
        for _ in range(1000):
            budget.audio(0.02, 0.0)
    assert closed.value.close_code == 1008 and "faster than real time" in str(closed.value)


def test_too_many_messages_close_the_connection() -> None:
    budget = ConnectionBudget(0.0)
    with pytest.raises(ProtocolError) as closed:
        for _ in range(10000):
            budget.message(0.001)
    assert closed.value.close_code == 1008
    assert MESSAGE_BURST <= budget.messages <= MESSAGE_BURST + 2


def test_control_messages_have_a_tighter_budget_than_audio() -> None:
    budget = ConnectionBudget(0.0)
    for _ in range(1500):  # 30 s of audio frames at once: within the message budget
        budget.message(0.001)
    with pytest.raises(ProtocolError) as closed:
        for _ in range(1000):  # unknown events, marks, keys: a gateway sends a few a second
            budget.control(0.001)
    assert closed.value.close_code == 1008 and "control messages" in str(closed.value)
    calm = ConnectionBudget(0.0)
    for i in range(3000):  # a key press or a mark echo every 20 ms for a minute is still fine
        calm.control(i * 0.02)


def test_anomalies_are_logged_a_few_times_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limiter = _ProcessLimiter(1000.0, 1000.0, lambda: now[0])
    anomalies = AnomalyLog("twilio", first=3, every_s=10.0, clock=lambda: now[0], limiter=limiter)
    with caplog.at_level(logging.WARNING, logger="agent.transports"):
        for i in range(10000):
            now[0] = i * 0.0001  # 10,000 unknown events in one second
            anomalies.note("unknown event", f"'bogus{i}'")
        anomalies.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4
    assert lines[0] == "twilio: unknown event: 'bogus0'"
    assert "9997 x unknown event" in lines[-1]
    assert sum(len(line) for line in lines) < 1000
    assert anomalies.counts["unknown event"] == 10000


def test_the_process_limit_holds_across_connections(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limiter = _ProcessLimiter(20.0, 100.0, lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="agent.transports"):
        for c in range(1000):  # a thousand misbehaving connections at once
            AnomalyLog("jambonz", clock=lambda: now[0], limiter=limiter).note("unknown message", str(c))
    assert len(caplog.records) == 100 and limiter.suppressed == 900
