"""The bench's intra-turn gap report: per locale and level, p50/p95/max, and where the worst one was."""

from __future__ import annotations

from typing import Any

from agent.bench.report import gap_rows, gap_table
from agent.bench.runner import worst_gap
from agent.bench.stats import summary

JOIN = "confirm_promise.say.0: \"I've noted that you plan to pay\" | 'one hundred twenty dollars'"


def _record(client: list[int], server: list[int], at: list[str], scenario: str = "happy_path",
            ) -> dict[str, Any]:
    return {"scenario": scenario, "turn_gap_ms": client, "server_turn_gap_ms": server,
            "server_turn_gap_at": at}


def test_the_worst_gap_names_its_join_and_its_call() -> None:
    records = [_record([0, 40], [0, 30], ["", "opening.say.0: inside 'Hello,'"], "opt_out"),
               _record([5, 900], [0, 880], ["", JOIN])]
    assert worst_gap(records) == {"client_ms": 900, "server_ms": 880, "at": JOIN, "scenario": "happy_path"}
    assert worst_gap([]) == {"client_ms": None, "server_ms": None, "at": "", "scenario": ""}


def test_gap_rows_go_per_locale_and_level_with_the_load_and_the_cold_calls_first() -> None:
    def result(locale: str) -> dict[str, Any]:
        records = [_record([10, 300], [0, 280], ["", JOIN])]
        level = {"concurrency": 8, "turn_gap_ms": summary([10, 300]), "turn_gap_worst": worst_gap(records),
                 "loadavg": {"before": [3.5, 2.0, 1.0], "after": [4.0, 2.5, 1.1]}}
        first = _record([0, 120], [0, 110], ["", JOIN])
        cold = {"turn_gaps_ms": [[0, 120]], "turn_gap_worst": worst_gap([first])}
        return {"meta": {"options": {"locale": locale}, "loadavg_before": [1.0, 1.0, 1.0]},
                "cold_start": cold, "levels": [level]}

    rows = gap_rows([result("en-US"), result("zh-CN")])
    assert [(r["locale"], r["level"]) for r in rows] == [("en-US", "cold"), ("en-US", "8"),
                                                         ("zh-CN", "cold"), ("zh-CN", "8")]
    assert rows[0]["gap_ms"]["max"] == 120 and rows[1]["gap_ms"]["max"] == 300
    assert rows[1]["loadavg"] == [3.5, 2.0, 1.0] and rows[1]["worst"]["at"] == JOIN
    assert gap_table([result("en-US")]).row_count == 2
