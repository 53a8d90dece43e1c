"""Redaction in linear time (issue 12, finding 1) and no mis-redaction of dates, times, amounts (finding 6).

Hostile strings arrive from the network and are logged on the event loop, so 1 MB of any
shape must be redacted in well under a second, and real PII inside or after it still masked.
CPU time (not wall time) is measured, with a generous bound, so a loaded machine does not
make the test flaky; before the fix these shapes took minutes.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import pytest

from agent.compliance.redact import SEARCH_BUDGET, redact, truncate
from agent.config import LoggingConfig
from agent.logs import MAX_VALUE_CHARS, configure_logging, get_logger

MB = 1_000_000


def _fill(unit: str, n: int = MB) -> str:
    return (unit * (n // len(unit) + 1))[:n]


HOSTILE: dict[str, Callable[[], str]] = {
    "word run": lambda: _fill("d"),
    "digit run": lambda: _fill("1"),
    "spaced digits": lambda: _fill("1 "),
    "digit words": lambda: _fill("one two "),
    "at-sign run": lambda: _fill("@"),
    "dot run": lambda: _fill("."),
    "dotted labels": lambda: "x@" + _fill("a.", MB - 2),
    "at-separated": lambda: _fill("a@a."),
    "dashes": lambda: _fill("-1"),
    "CJK numerals": lambda: _fill("测试一二三四五六七八九十幺"),
    "mixed CJK": lambda: _fill("还款 pay 138 一三八 @ . - "),
    "date-like": lambda: _fill("2026-12-01 14:40 "),
}

PII = "call 4155551234 or write ann.lee@example.com, card 4111 1111 1111 1111, 身份证11010519491231002X"
SECRETS = ("4155551234", "ann.lee@example.com", "4111 1111 1111 1111", "11010519491231002X")


def _cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_one_megabyte_is_redacted_in_under_a_second(shape: str) -> None:
    text = HOSTILE[shape]()
    assert len(text) == MB
    assert _cpu(lambda: redact(text)) < 1.0


@pytest.mark.parametrize("shape", sorted(HOSTILE))
@pytest.mark.parametrize("where", ["before", "after", "inside"])
def test_real_pii_next_to_hostile_text_is_still_masked(shape: str, where: str) -> None:
    hostile = HOSTILE[shape]()[: MB // 2]
    text = {
        "before": f"{PII} {hostile}",
        "after": f"{hostile} {PII}",
        "inside": f"{hostile[: len(hostile) // 2]} {PII} {hostile[len(hostile) // 2 :]}",
    }[where]
    out: list[str] = []
    assert _cpu(lambda: out.append(redact(text))) < 1.0
    for secret in SECRETS:
        assert secret not in out[0]


def test_within_the_budget_each_number_gets_its_own_tag() -> None:
    text = " and ".join(["(415) 555-1234", "4111 1111 1111 1111", "ann@example.com"] * 20)
    assert len(text) < SEARCH_BUDGET
    out = redact(text)
    assert out.count("[PHONE]") == 20 and out.count("[CARD]") == 20 and out.count("[EMAIL]") == 20


def test_past_the_budget_long_runs_are_masked_whole() -> None:
    text = "x " + "1 2 3 4 5 6 7 8 9 0 " * (SEARCH_BUDGET // 10) + " then 4155551234"
    out = redact(text)
    assert "[DIGITS]" in out and "4155551234" not in out


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01 14:40 local",  # finding 6: was "[PHONE]:40 local"
        "reminder sent 2026-12-01T14:40:05.123456Z",
        "next attempt 2026/12/01 09:30",
        "due 12/01/2026, call window 08:00-21:00",
        "at 14:40:00 on 2026-03-15",
        "outside window: 21:05 local is outside 08:00-21:00",
        "2026年12月1日 14点40分",
        "balance $12,345,678.90 due",
        "¥1,234,567.89 已逾期",
        "amount 1,234,567,890.12",
        "order number 5829301745 shipped",
        "order #20261201004512 confirmed",
        "reference: 3405938475920384756",
        "订单号 3405938475920384756",
        "订单号：202612010045",
        "case number 4155551234 was closed",
        "I owe 1,234.50 dollars",
        "due on 2025-03-15",
    ],
)
def test_dates_times_amounts_and_order_numbers_are_not_pii(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 14:40 call 4155551234", "2026-12-01 14:40 call [PHONE]"),
        ("at 14:40, 415-555-1234", "at 14:40, [PHONE]"),
        ("$1,234.50 from card 4111111111111111", "$1,234.50 from card [CARD]"),
        ("order 5829301745, call me on 4155551234", "order 5829301745, call me on [PHONE]"),
        ("ann@example.com@evil.com", "[EMAIL]@evil.com"),
        ("x@y@example.com", "x@[EMAIL]"),
    ],
)
def test_pii_next_to_kept_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_truncate_never_ends_inside_a_number() -> None:
    text = "Hello! call 415 555 1234 " + "b" * 50
    cut = truncate(text, 17)  # the cut falls inside the phone number: "...call 415 5"
    assert cut.startswith("Hello!") and "415" not in cut and "truncated" in cut
    assert truncate("short", 10) == "short"


def test_log_lines_cap_long_values_before_redaction() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="INFO", format="json"), stream=stream)
    try:
        hostile = "d" * MB
        seconds = _cpu(lambda: get_logger("t").info("unknown message", type=hostile, call_id="c" * MB))
        line = json.loads(stream.getvalue().splitlines()[-1])
    finally:
        configure_logging(LoggingConfig(level="WARNING", format="json"), stream=io.StringIO())
    assert seconds < 1.0
    assert len(line["type"]) < MAX_VALUE_CHARS + 40 and "truncated" in line["type"]
    assert len(line["call_id"]) < MAX_VALUE_CHARS + 40
