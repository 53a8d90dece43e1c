"""Caps hold under concurrency (SPEC 7.11): many simultaneous gate requests for one debt grant
exactly the cap, across two REST node processes on PostgreSQL and across threads on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from agent.store import CallGrant, CallRequest, Store
from scripts.gate_race import run_case, window_zone


@pytest.mark.pg
@pytest.mark.parametrize(("case", "cap"), [("us_7in7", 7), ("cn_daily", 6), ("us_rest", 0)])
def test_fifty_requests_on_two_pg_nodes_grant_the_cap(pg_url: str, case: str, cap: int) -> None:
    row = asyncio.run(run_case(pg_url, nodes=2, requests=50, case=case, n=4000 + cap))
    assert row["granted"] == cap, row
    refused = 50 - cap
    reason = {"us_7in7": "cap_7day", "cn_daily": "cap_daily", "us_rest": "recent_conversation"}[case]
    assert row["codes"] == {"201": cap, f"403:{reason}": refused} if cap else {f"403:{reason}": 50}, row
    assert row["audit_ok"] is True


def _threaded_grants(url: str, jurisdiction: str, phone: str, stores: int = 2, requests: int = 50) -> int:
    # a long busy timeout: 50 writers queue for SQLite's one write lock on a loaded machine
    opened = [Store.open(url, "test-key", busy_timeout_ms=60_000) for _ in range(stores)]
    try:
        cid = opened[0].register_customer(
            phone=phone, name="T", timezone=window_zone(), now=datetime.now(UTC), jurisdiction=jurisdiction
        )
        req = CallRequest("servicing", "repayment_reminder", customer_id=cid, debt_id="d1")
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda i: opened[i % stores].request_call(req), range(requests)))
        report = opened[0].verify_audit()
        assert report.ok, report
        events = opened[0].audit_events()
        assert [e.at for e in events] == sorted(e.at for e in events)  # `at` in seq order
        return sum(isinstance(r, CallGrant) for r in results)
    finally:
        for st in opened:
            st.close()


def test_threads_on_sqlite_grant_the_cap(sqlite_url: str) -> None:
    assert _threaded_grants(sqlite_url, "US", "+14155550177") == 7
    assert _threaded_grants(sqlite_url.replace("store.db", "cn.db"), "CN", "+8613800000177") == 6


@pytest.mark.pg
def test_threads_on_pg_grant_the_cap(pg_url: str) -> None:
    assert _threaded_grants(pg_url, "US", "+14155550178") == 7


def test_an_attempt_stamped_ahead_still_counts(store: Store) -> None:
    """A node whose clock runs ahead stamps attempts after our `now`: they count all the same."""
    now = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)
    cid = store.register_customer(phone="4155554567", name="A", timezone="America/New_York", now=now)
    req = CallRequest("servicing", "r", customer_id=cid, debt_id=uuid.uuid4().hex)
    for i in range(7):
        grant = store.request_call(req, now + timedelta(minutes=10 + i))
        assert isinstance(grant, CallGrant)
        store.claim_call(grant.call_id, grant.token, now + timedelta(minutes=10 + i, seconds=1))
    assert store.request_call(req, now).reason == "cap_7day"  # type: ignore[union-attr]
