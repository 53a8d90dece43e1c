"""Caller-ID policy: one registered number per member, stable, even, and never rotated (SPEC 7.10)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from agent.campaign.callerid import choose_caller_id
from agent.compliance.gate import Attempt, CallIntent, Customer, decide

NUMBERS = ("+12025550100", "+12025550101", "+12025550102")
NOW = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York


@given(st.text(min_size=1, max_size=40), st.permutations(NUMBERS))
def test_choice_is_registered_and_order_free(key: str, order: list[str]) -> None:
    chosen = choose_caller_id(key, NUMBERS, "secret")
    assert chosen in NUMBERS
    assert choose_caller_id(key, order, "secret") == chosen


def test_choice_spreads_evenly_and_moves_only_the_withdrawn_numbers_customers() -> None:
    keys = [f"member-{i}" for i in range(3000)]
    before = {k: choose_caller_id(k, NUMBERS, "secret") for k in keys}
    counts = Counter(before.values())
    assert min(counts.values()) > 900
    after = {k: choose_caller_id(k, NUMBERS[:2], "secret") for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert moved and all(before[k] == NUMBERS[2] for k in moved)


def test_choice_depends_on_the_secret() -> None:
    keys = [f"m{i}" for i in range(200)]
    a = [choose_caller_id(k, NUMBERS, "one") for k in keys]
    b = [choose_caller_id(k, NUMBERS, "two") for k in keys]
    assert a != b


def _intent(caller_id: str | None, registered: frozenset[str] | None) -> CallIntent:
    cust = Customer(True, "America/New_York", frozenset({"servicing"}))
    return CallIntent(cust, "servicing", "US", "d1", caller_id=caller_id, registered_caller_ids=registered)


def test_gate_refuses_an_unregistered_caller_id() -> None:
    reg = frozenset(NUMBERS)
    assert decide(_intent(NUMBERS[0], reg), [], set(), NOW).reason == "ok"
    assert decide(_intent("+12025559999", reg), [], set(), NOW).reason == "caller_id_unregistered"
    assert decide(_intent(None, reg), [], set(), NOW).reason == "caller_id_unregistered"
    assert decide(_intent("+12025559999", None), [], set(), NOW).reason == "ok"  # not checked


def test_gate_refuses_a_rotated_caller_id() -> None:
    reg = frozenset(NUMBERS)
    earlier = [Attempt(NOW - timedelta(days=1), "servicing", "d1", caller_id=NUMBERS[1])]
    assert decide(_intent(NUMBERS[1], reg), earlier, set(), NOW).reason == "ok"
    refused = decide(_intent(NUMBERS[0], reg), earlier, set(), NOW)
    assert refused.reason == "caller_id_changed"
    withdrawn = [Attempt(NOW - timedelta(days=1), "servicing", "d1", caller_id="+12025559999")]
    assert decide(_intent(NUMBERS[0], reg), withdrawn, set(), NOW).reason == "ok"  # old number gone
