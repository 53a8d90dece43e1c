"""The scheduler: permitted local times under every cap, retry delays, stops, learning, even load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.campaign.learning import Prior, hour_of_week
from agent.campaign.load import BucketLoad, bucket_capacity
from agent.campaign.model import Campaign, Member, Pace, Result
from agent.campaign.scheduler import MemberState, Plan, Stop, plan_next, record_result
from agent.compliance.gate import Attempt, CallIntent, Customer, decide
from agent.compliance.profiles import CN, US

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 9, 4, 0, tzinfo=UTC)  # Monday, night in New York


def campaign(j: str = "US", **kw: object) -> Campaign:
    return Campaign(name="c", use_case="repayment_reminder", jurisdiction=j,  # type: ignore[arg-type]
                    caller_ids=("+12025550100",), **kw)  # type: ignore[arg-type]


def state(tz: str = "America/New_York") -> MemberState:
    return MemberState(Member(key="k1", timezone=tz, debt_id="d1"))


def test_first_plan_is_inside_both_windows() -> None:
    c = campaign()
    plan = plan_next(state(), c, US.servicing, [], Prior.flat(), T0)
    assert isinstance(plan, Plan)
    local = plan.at_utc.astimezone(NY)
    assert 9 <= local.hour < 20 and plan.at_utc >= T0


def test_plan_goes_to_the_members_answering_hour() -> None:
    s = state()
    for week in range(2):
        for day in range(5):
            at = datetime(2025, 5, 26 + day, 19, 30, tzinfo=NY) + timedelta(weeks=week)
            record_result(s, at.astimezone(UTC), Result.contact, NY)
    s.attempts.clear()  # evidence kept, no retry delay
    plan = plan_next(s, campaign(), US.servicing, [], Prior.flat(), T0)
    assert isinstance(plan, Plan) and plan.at_utc.astimezone(NY).hour == 19


def test_final_results_stop_and_dispute_is_flagged() -> None:
    for result in (Result.promise, Result.opt_out, Result.wrong_party, Result.not_in_service):
        s = state()
        record_result(s, T0, result, NY)
        stop = plan_next(s, campaign(), US.servicing, [], Prior.flat(), T0)
        assert isinstance(stop, Stop) and stop.reason == result.value and not stop.flag_for_human
    s = state()
    record_result(s, T0, Result.dispute, NY)
    stop = plan_next(s, campaign(), US.servicing, [], Prior.flat(), T0)
    assert isinstance(stop, Stop) and stop.flag_for_human


def test_blocking_refusal_stops_and_window_refusal_replans() -> None:
    s = state()
    record_result(s, T0, Result.refused, NY, refusal="suppressed")
    assert isinstance(plan_next(s, campaign(), US.servicing, [], Prior.flat(), T0), Stop)
    s = state()
    record_result(s, T0, Result.refused, NY, refusal="outside_window")
    assert isinstance(plan_next(s, campaign(), US.servicing, [], Prior.flat(), T0), Plan)


def test_retry_delay_and_backoff() -> None:
    c = campaign()
    s = state()
    at = datetime(2025, 6, 9, 10, 0, tzinfo=NY).astimezone(UTC)
    record_result(s, at, Result.no_answer, NY)
    p1 = plan_next(s, c, US.servicing, [], Prior.flat(), at)
    assert isinstance(p1, Plan) and p1.at_utc - at >= timedelta(minutes=180)
    for k in range(3):
        record_result(s, at + timedelta(minutes=k + 1), Result.no_answer, NY)
    p4 = plan_next(s, c, US.servicing, [], Prior.flat(), at)
    assert isinstance(p4, Plan) and p4.at_utc - at >= timedelta(minutes=180 * 8)


def test_exhausted_by_result_count_and_total() -> None:
    c = campaign(retry={"busy": {"delay_minutes": 1, "max_attempts": 2}, "max_attempts": 5})
    s = state()
    record_result(s, T0, Result.busy, NY)
    assert isinstance(plan_next(s, c, US.servicing, [], Prior.flat(), T0), Plan)
    record_result(s, T0 + timedelta(minutes=5), Result.busy, NY)
    assert plan_next(s, c, US.servicing, [], Prior.flat(), T0) == Stop("exhausted:busy")
    s = state()
    for k in range(5):
        record_result(s, T0 + timedelta(hours=k), Result.no_answer, NY)
    assert plan_next(s, c, US.servicing, [], Prior.flat(), T0) == Stop("exhausted")


def test_us_quiet_days_after_a_conversation_and_seven_in_seven() -> None:
    c = campaign()
    talk = datetime(2025, 6, 9, 11, 0, tzinfo=NY).astimezone(UTC)
    s = state()
    record_result(s, talk, Result.contact, NY)
    plan = plan_next(s, c, US.servicing, [Attempt(talk, "servicing", "d1", conversation=True)],
                     Prior.flat(), talk)
    assert isinstance(plan, Plan)
    assert plan.at_utc.astimezone(NY).date() >= datetime(2025, 6, 16).date()
    week = [Attempt(talk - timedelta(days=d % 3, hours=d), "servicing", "d1") for d in range(7)]
    s = state()
    plan = plan_next(s, c, US.servicing, week, Prior.flat(), talk)
    assert isinstance(plan, Plan)
    assert decide(_intent("US"), week, set(), plan.at_utc).allowed


def _intent(j: str, tz: str = "America/New_York") -> CallIntent:
    return CallIntent(Customer(True, tz, frozenset({"servicing"})), "servicing", j, "d1")


def test_cn_daily_cap_and_campaign_cap() -> None:
    c = campaign("CN", daily_cap=2)
    day = datetime(2025, 6, 9, 9, 0, tzinfo=SH).astimezone(UTC)
    hist = [Attempt(day + timedelta(minutes=m), "servicing", "d1") for m in (0, 10)]
    plan = plan_next(state("Asia/Shanghai"), c, CN.servicing, hist, Prior.flat(), day + timedelta(minutes=20))
    assert isinstance(plan, Plan) and plan.at_utc.astimezone(SH).date() > day.astimezone(SH).date()


@settings(max_examples=150, deadline=None)
@given(
    tz=st.sampled_from(["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Shanghai",
                        "Europe/London", "Australia/Sydney"]),
    jur=st.sampled_from(["US", "CN"]),
    start_h=st.integers(0, 24 * 60),
    results=st.lists(st.sampled_from([Result.no_answer, Result.busy, Result.voicemail, Result.carrier,
                                      Result.contact, Result.failed]), max_size=12),
)
def test_every_plan_is_granted_by_the_gate(tz: str, jur: str, start_h: int, results: list[Result]) -> None:
    """Property: whatever happened before, the proposed time passes the real gate."""
    c = campaign(jur)
    rules = (US if jur == "US" else CN).servicing
    zone = ZoneInfo(tz)
    now = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=start_h * 7)
    s = MemberState(Member(key="p", timezone=tz, debt_id="d1"))
    hist: list[Attempt] = []
    for r in results:
        plan = plan_next(s, c, rules, hist, Prior.flat(), now)
        if isinstance(plan, Stop):
            return
        decision = decide(_intent(jur, tz), hist, set(), plan.at_utc)
        assert decision.allowed, (decision, plan.at_utc.astimezone(zone))
        hist.append(Attempt(plan.at_utc, "servicing", "d1", conversation=r == Result.contact))
        record_result(s, plan.at_utc, r, zone)
        now = plan.at_utc + timedelta(minutes=2)


def test_load_spreads_a_crowd_over_the_window() -> None:
    cap = bucket_capacity(Pace(max_concurrent=2, calls_per_second=1), 5, mean_call_s=60)
    assert cap == 10
    load = BucketLoad(cap)
    c = campaign()
    at: list[datetime] = []
    for i in range(300):
        s = MemberState(Member(key=f"m{i}", timezone="America/New_York", debt_id="d1"))
        plan = plan_next(s, c, US.servicing, [], Prior.flat(), T0, load)
        assert isinstance(plan, Plan)
        at.append(plan.at_utc)
    assert max(load.counts.values()) <= cap
    assert len({load.index(t) for t in at}) >= 30
    load.release(at[0])
    assert sum(load.counts.values()) == 299


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        plan_next(state(), campaign(), US.servicing, [], Prior.flat(), datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        Campaign(name="c", use_case="u", caller_ids=("not a number",))
    assert hour_of_week(6, 23) == 167


@pytest.mark.parametrize("result", [Result.voicemail, Result.carrier, Result.busy])
def test_screened_machine_results_retry_by_their_own_rule_with_no_rest_period(result: Result) -> None:
    """A voicemail or carrier end (answer screening) is no conversation: its own retry rule, no 7 days."""
    c = campaign(retry={result.value: {"delay_minutes": 90, "max_attempts": 2}})
    s = state()
    at = datetime(2025, 6, 9, 10, 0, tzinfo=NY).astimezone(UTC)
    record_result(s, at, result, NY)
    hist = [Attempt(at, "servicing", "d1", conversation=False)]
    plan = plan_next(s, c, US.servicing, hist, Prior.flat(), at)
    assert isinstance(plan, Plan) and timedelta(minutes=90) <= plan.at_utc - at < timedelta(days=1)
    record_result(s, plan.at_utc, result, NY)
    assert plan_next(s, c, US.servicing, hist, Prior.flat(), plan.at_utc) == Stop(f"exhausted:{result.value}")
