"""The bench's cold-start row: every call's first audio and every turn gap, against issue 11's targets."""

from __future__ import annotations

from typing import Any

from agent.bench.report import cold_start_row, cold_start_table


def _result(first_call: int, later: list[int], gaps: list[int]) -> dict[str, Any]:
    records = [{"first_audio_ms": ms, "turn_gap_ms": gaps} for ms in later]
    return {
        "meta": {"options": {"locale": "zh-CN"}, "server_load_s": 31.0, "server_warm_up_s": 4.2},
        "cold_start": {"first_audio_ms": [first_call], "turn_gap_ms": [max(gaps)], "outcomes": ["x"]},
        "later_first_audio_ms": {"n": len(later), "p95": max(later)},
        "levels": [{"call_records": records}],
    }


def test_a_fast_first_call_and_short_gaps_meet_the_targets() -> None:
    row = cold_start_row(_result(80, [40, 60], [20, 90]))
    assert row["first_call_first_audio_ms"] == 80 and row["later_first_audio_p95_ms"] == 60
    assert row["turn_gap_max_ms"] == 90 and row["first_audio_ok"] and row["turn_gap_ok"]
    assert row["locale"] == "zh-CN" and (row["ready_s"], row["warm_up_s"]) == (31.0, 4.2)


def test_a_slow_first_call_fails_even_when_later_calls_are_fast() -> None:
    row = cold_start_row(_result(2464, [20, 30], [10]))
    assert not row["first_audio_ok"] and row["turn_gap_ok"]
    assert not cold_start_row(_result(50, [20], [10, 400]))["turn_gap_ok"]
    assert cold_start_table([_result(50, [20], [10])]).row_count == 1
