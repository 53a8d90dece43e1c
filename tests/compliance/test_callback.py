"""The lender's registered callback numbers (SPEC 7.9): parsing, matching, and the gate's refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.compliance.callback import OfficialNumbers
from agent.compliance.gate import REASONS, CallIntent, Customer, decide

OFFICIAL = OfficialNumbers.parse(["+1 800 555 0123", "+86 400 800 1234"])
NOON_NY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
NOON_SH = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "jurisdiction"),
    [
        ("800-555-0123", "US"),
        ("(800) 555-0123", "US"),
        ("1 800 555 0123", "US"),
        ("+1.800.555.0123", "CN"),
        ("18005550123", "US"),
        ("400-800-1234", "CN"),
        ("4008001234", "CN"),
        ("+86 400 800 1234", "US"),
    ],
)
def test_official_numbers_match_however_written(number: str, jurisdiction: str) -> None:
    assert OFFICIAL.contains(number, jurisdiction)


@pytest.mark.parametrize(
    ("number", "jurisdiction"),
    [
        ("800-555-0199", "US"),
        ("400-800-1234", "US"),
        ("13812345678", "CN"),
        ("not a number", "US"),
        ("", "US"),
    ],
)
def test_other_numbers_do_not(number: str, jurisdiction: str) -> None:
    assert not OFFICIAL.contains(number, jurisdiction)


def test_config_entries_need_a_country_code() -> None:
    with pytest.raises(ValueError, match="country code"):
        OfficialNumbers.parse(["800-555-0123"])
    assert OfficialNumbers.parse([]).numbers == frozenset()


def _decide(slots: dict[str, str], official: OfficialNumbers | None, juris: str = "US") -> str:
    zone = "America/New_York" if juris == "US" else "Asia/Shanghai"
    customer = Customer(True, zone, frozenset({"servicing"}))
    intent = CallIntent(customer, "servicing", juris, "d1", slots=slots, official=official)
    return decide(intent, [], set(), NOON_NY if juris == "US" else NOON_SH).reason


def test_gate_refuses_an_unofficial_callback_number_with_its_own_reason() -> None:
    assert "unofficial_callback_number" in REASONS
    assert _decide({"callback_number": "800-555-0199"}, OFFICIAL) == "unofficial_callback_number"
    assert _decide({"hotline": "13812345678"}, OFFICIAL, "CN") == "unofficial_callback_number"
    assert _decide({"callback_number": "800-555-0123"}, OFFICIAL) == "ok"
    assert _decide({"callback_number": "400 800 1234"}, OFFICIAL, "CN") == "ok"
    assert _decide({"customer_name": "Ann"}, OFFICIAL) == "ok"  # no callback slot: nothing to check


def test_no_registered_number_refuses_every_callback_and_none_means_unchecked() -> None:
    assert (
        _decide({"callback_number": "800-555-0123"}, OfficialNumbers(frozenset()))
        == "unofficial_callback_number"
    )
    assert _decide({"callback_number": "800-555-0199"}, None) == "ok"


def test_detail_names_the_slot_not_the_value() -> None:
    customer = Customer(True, "America/New_York", frozenset({"servicing"}))
    intent = CallIntent(
        customer, "servicing", "US", slots={"callback_number": "800-555-0199"}, official=OFFICIAL
    )
    detail = decide(intent, [], set(), NOON_NY).detail
    assert "callback_number" in detail and "0199" not in detail
