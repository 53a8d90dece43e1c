"""Pre-call gate rules at their boundaries (SPEC 7.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.compliance.gate import REASONS, Attempt, CallIntent, Consent, Customer, decide
from agent.compliance.profiles import CN, US, tighten

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def cust(tz: str = "America/New_York", marketing: bool = False, registered: bool = True) -> Customer:
    basis = {"servicing", "marketing"} if marketing else {"servicing"}
    consents = (Consent("marketing", T0),) if marketing else ()
    return Customer(registered, tz, frozenset(basis), consents)


def local(y: int, mo: int, d: int, h: int, mi: int, zone: ZoneInfo = NY) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


def intent(
    c: Customer | None = None,
    purpose: str = "servicing",
    j: str = "US",
    debt: str | None = "d1",
    method: str = "voice",
) -> CallIntent:
    return CallIntent(c if c is not None else cust(), purpose, j, debt, method)


def us(now: datetime, history: list[Attempt] | None = None, **kw: object) -> str:
    return decide(intent(**kw), history or [], set(), now).reason  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("h", "m", "reason"),
    [
        (7, 59, "outside_window"),
        (8, 0, "ok"),
        (20, 59, "ok"),
        (21, 0, "outside_window"),
    ],
)
def test_us_window_boundaries(h: int, m: int, reason: str) -> None:
    assert us(local(2025, 6, 10, h, m)) == reason


@pytest.mark.parametrize(
    ("h", "m", "purpose", "reason"),
    [
        (7, 59, "servicing", "outside_window"),
        (8, 0, "servicing", "ok"),
        (21, 59, "servicing", "ok"),
        (22, 0, "servicing", "outside_window"),
        (20, 59, "marketing", "ok"),
        (21, 0, "marketing", "outside_window"),
        (7, 59, "marketing", "outside_window"),
        (8, 0, "marketing", "ok"),
    ],
)
def test_cn_window_boundaries(h: int, m: int, purpose: str, reason: str) -> None:
    c = cust("Asia/Shanghai", marketing=True)
    now = local(2025, 6, 10, h, m, SH)
    assert decide(intent(c, purpose, "CN"), [], set(), now).reason == reason


def test_dst_spring_forward_new_york() -> None:
    # 2025-03-09: clocks jump 02:00 EST -> 03:00 EDT; 08:00 local is 12:00Z, not 13:00Z.
    assert us(datetime(2025, 3, 9, 11, 59, tzinfo=UTC)) == "outside_window"
    assert us(datetime(2025, 3, 9, 12, 0, tzinfo=UTC)) == "ok"
    assert us(datetime(2025, 3, 8, 12, 30, tzinfo=UTC)) == "outside_window"  # 07:30 EST the day before
    assert us(datetime(2025, 3, 9, 0, 59, tzinfo=UTC)) == "ok"  # 20:59 EST on the 8th
    assert us(datetime(2025, 3, 10, 1, 0, tzinfo=UTC)) == "outside_window"  # 21:00 EDT on the 9th
    assert us(datetime(2025, 3, 10, 0, 59, tzinfo=UTC)) == "ok"  # 20:59 EDT


def test_dst_fall_back_new_york() -> None:
    # 2025-11-02: clocks fall back 02:00 EDT -> 01:00 EST; 08:00 local is 13:00Z.
    assert us(datetime(2025, 11, 2, 12, 59, tzinfo=UTC)) == "outside_window"
    assert us(datetime(2025, 11, 2, 13, 0, tzinfo=UTC)) == "ok"
    assert us(datetime(2025, 11, 1, 12, 0, tzinfo=UTC)) == "ok"  # 08:00 EDT the day before
    assert us(datetime(2025, 11, 3, 1, 59, tzinfo=UTC)) == "ok"  # 20:59 EST
    assert us(datetime(2025, 11, 3, 2, 0, tzinfo=UTC)) == "outside_window"  # 21:00 EST


def attempts(
    times: list[datetime],
    conversation: bool = False,
    debt: str | None = "d1",
    purpose: str = "servicing",
    method: str = "voice",
) -> list[Attempt]:
    return [Attempt(t, purpose, debt, method, conversation) for t in times]


def test_cn_sixth_attempt_allowed_seventh_refused() -> None:
    c = cust("Asia/Shanghai")
    now = local(2025, 6, 10, 18, 0, SH)
    five = attempts([local(2025, 6, 10, 8 + i, 0, SH) for i in range(5)])
    assert decide(intent(c, j="CN"), five, set(), now).reason == "ok"
    six = attempts([local(2025, 6, 10, 8 + i, 0, SH) for i in range(6)])
    assert decide(intent(c, j="CN"), six, set(), now).reason == "cap_daily"


def test_cn_cap_is_per_local_day_method_and_debt() -> None:
    c = cust("Asia/Shanghai")
    now = local(2025, 6, 11, 8, 0, SH)
    yesterday = attempts([local(2025, 6, 10, 8 + i, 0, SH) for i in range(6)])
    assert decide(intent(c, j="CN"), yesterday, set(), now).allowed
    today_sms = attempts([local(2025, 6, 11, 7, 0, SH)] * 6, method="sms")
    assert decide(intent(c, j="CN"), today_sms, set(), now).allowed
    other_debt = attempts([local(2025, 6, 11, 7, 0, SH)] * 6, debt="d2")
    assert decide(intent(c, j="CN"), other_debt, set(), now).allowed


def test_us_seventh_call_allowed_eighth_refused() -> None:
    now = local(2025, 6, 10, 12, 0)
    six = attempts([local(2025, 6, 4 + i, 10, 0) for i in range(6)])  # 4..9 June
    assert us(now, six) == "ok"
    seven = six + attempts([local(2025, 6, 10, 9, 0)])
    assert us(now, seven) == "cap_7day"


def test_us_seven_day_window_slides_by_local_day() -> None:
    seven = attempts([local(2025, 6, 3 + i, 10, 0) for i in range(7)])  # 3..9 June
    assert us(local(2025, 6, 9, 20, 0), seven) == "cap_7day"
    assert us(local(2025, 6, 10, 8, 0), seven) == "ok"  # 3 June dropped out of 4..10 June


def test_us_recent_conversation() -> None:
    talk = attempts([local(2025, 6, 3, 10, 0)], conversation=True)
    assert us(local(2025, 6, 9, 20, 59), talk) == "recent_conversation"  # 6 days later
    assert us(local(2025, 6, 10, 8, 0), talk) == "ok"  # 7 days later
    other_debt = attempts([local(2025, 6, 8, 10, 0)], conversation=True, debt="d2")
    assert us(local(2025, 6, 9, 10, 0), other_debt) == "ok"


def test_order_and_basic_refusals() -> None:
    now = local(2025, 6, 10, 12, 0)
    assert decide(CallIntent(None, "servicing", "US"), [], set(), now).reason == "not_registered"
    assert us(now, c=cust(registered=False)) == "not_registered"
    assert us(now, c=cust(tz="Mars/Olympus")) == "invalid_timezone"
    assert us(now, j="XX") == "unknown_jurisdiction"
    assert us(now, purpose="collections") == "unknown_purpose"
    assert us(now, purpose="marketing") == "no_lawful_basis"
    no_consent = Customer(True, "America/New_York", frozenset({"servicing", "marketing"}))
    assert us(now, c=no_consent, purpose="marketing") == "no_consent"
    assert decide(intent(), [], {"all"}, now).reason == "suppressed"
    assert decide(intent(), [], {"marketing"}, now).reason == "ok"
    assert decide(intent(cust(marketing=True), "marketing"), [], {"marketing"}, now).reason == "suppressed"
    assert decide(intent(), [], {"all"}, local(2025, 6, 10, 3, 0)).reason == "suppressed"


def test_consent_withdrawn_or_expired() -> None:
    now = local(2025, 6, 10, 12, 0)
    for consent in (
        Consent("marketing", T0, withdrawn_at=now - timedelta(seconds=1)),
        Consent("marketing", T0, expires_at=now),
        Consent("marketing", now + timedelta(seconds=1)),
    ):
        c = Customer(True, "America/New_York", frozenset({"servicing", "marketing"}), (consent,))
        assert us(now, c=c, purpose="marketing") == "no_consent"


def test_config_tightens_never_loosens() -> None:
    cn = cust("Asia/Shanghai")
    now = local(2025, 6, 10, 18, 0, SH)
    three = attempts([local(2025, 6, 10, 9 + i, 0, SH) for i in range(3)])
    strict = CallIntent(cn, "servicing", "CN", "d1", profile=tighten(CN, daily_cap=3))
    assert decide(strict, three, set(), now).reason == "cap_daily"
    loose = tighten(CN, daily_cap=50, seven_day_cap=100)
    assert loose.servicing.daily_cap == 6
    assert tighten(US, seven_day_cap=99).servicing.seven_day_cap == 7
    assert tighten(US, daily_cap=2).servicing.daily_cap == 2
    assert tighten(US, quiet_days=3).servicing.quiet_days_after_conversation == 7
    assert tighten(US, marketing_daily_cap=1).marketing.daily_cap == 1


def test_naive_now_rejected_and_reasons_listed() -> None:
    with pytest.raises(ValueError):
        decide(intent(), [], set(), datetime(2025, 6, 10, 12, 0))
    for r in (
        "not_registered",
        "no_lawful_basis",
        "no_consent",
        "suppressed",
        "outside_window",
        "cap_daily",
        "cap_7day",
        "recent_conversation",
    ):
        assert r in REASONS


def test_future_attempts_ignored() -> None:
    now = local(2025, 6, 10, 12, 0)
    later = attempts([now + timedelta(hours=1)] * 10)
    assert us(now, later) == "ok"
