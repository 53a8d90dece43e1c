"""The campaign store on SQLite and PostgreSQL: members, plans, claims, results, report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.campaign.model import Campaign, Result
from agent.store import CallGrant, CallRequest, Conflict, Store
from agent.store.campaigns import CampaignStore

T0 = datetime(2025, 6, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York
NY = ZoneInfo("America/New_York")
SPEC = Campaign.model_validate({
    "name": "june reminders", "use_case": "repayment_reminder", "jurisdiction": "US",
    "caller_ids": ["+12025550100", "+12025550101"], "pace": {"max_concurrent": 3, "calls_per_second": 5},
})
CSV = "phone,name,timezone,debt_id,amount_due\n" + "".join(
    f"+1202555{1000 + i},Pat {i},America/New_York,D{i},$10{i}.00\n" for i in range(5)
)


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[Store, CampaignStore]]:
    store = Store.open(store_url, "k" * 32)
    yield store, CampaignStore(store, "n" * 32, "c" * 32)
    store.close()


def test_members_are_hashed_and_masked_and_dialled_once(stores: tuple[Store, CampaignStore]) -> None:
    store, cs = stores
    cid = cs.create(SPEC, T0)
    assert cs.import_csv(cid, CSV, T0) == 5
    members = cs.members(cid)
    assert members[0]["phone"] == "+1******1000" and members[0]["state"] == "new"
    with pytest.raises(Conflict):
        cs.control(cid, "pause", T0)
    assert cs.control(cid, "start", T0) == "running"
    cs.report_node("n1", 2, T0)
    later = T0 + timedelta(days=1)
    claimed = cs.claim_due("n1", later)
    assert len(claimed) == 2  # the node's free slots
    assert cs.claim_due("n1", later) == []  # full: nothing more until a slot frees
    cs.report_node("n2", 10, later)
    rest = cs.claim_due("n2", later)
    assert len(rest) == 1  # the campaign's max_concurrent (3) holds across nodes
    ids = {d.attempt_id for d in claimed + rest}
    assert len(ids) == 3
    due = claimed[0]
    assert due.phone.startswith("+1202555") and due.caller_id in SPEC.caller_ids
    assert due.slots["amount_due"].startswith("$10")
    grant = store.request_call(CallRequest("servicing", "repayment_reminder", customer_id=due.customer_id,
                                           debt_id=due.debt_id, caller_id=due.caller_id,
                                           registered_caller_ids=SPEC.caller_ids), later)
    assert isinstance(grant, CallGrant)
    cs.placed(due.attempt_id, grant.call_id, "CA1")
    assert cs.answered(due.attempt_id)
    cs.finish(due.attempt_id, Result.promise, later + timedelta(minutes=2))
    cs.finish(due.attempt_id, Result.no_answer, later + timedelta(minutes=3))  # repeated: ignored
    cs.finish(claimed[1].attempt_id, Result.no_answer, later + timedelta(minutes=1))
    cs.refused(rest[0].attempt_id, "suppressed", later)
    report = cs.report(cid)
    assert report["attempts"] == 2 and report["promises"] == 1 and report["right_party_contacts"] == 1
    assert report["refusals"] == {"suppressed": 1} and report["abandoned"] == 0
    assert report["stops"] == {"promise": 1, "refused:suppressed": 1}
    assert report["planned"] == 3  # the no-answer member and the two never claimed
    info = cs.attempt_info(claimed[1].attempt_id)
    assert info["status"] == "done" and info["result"] == "no_answer"
    assert cs.by_call(grant.call_id) == due.attempt_id


def test_bad_members_are_refused_whole(stores: tuple[Store, CampaignStore]) -> None:
    _store, cs = stores
    cid = cs.create(SPEC, T0)
    with pytest.raises(ValueError, match="member 2"):
        cs.add_members(cid, [{"phone": "+12025550199", "timezone": "America/New_York"},
                             {"phone": "not a phone", "timezone": "America/New_York"}], T0)
    assert cs.members(cid) == []
    with pytest.raises(ValueError, match="header"):
        cs.import_csv(cid, "number\n+12025550100\n", T0)


def test_plans_stay_inside_the_window_and_spread(stores: tuple[Store, CampaignStore]) -> None:
    _store, cs = stores
    cid = cs.create(SPEC, T0)
    cs.add_members(cid, [{"phone": f"+1303555{2000 + i}", "timezone": "America/Denver", "debt_id": f"x{i}"}
                         for i in range(30)], T0)
    cs.control(cid, "start", T0)
    cs.report_node("n", 100, T0)
    claimed = cs.claim_due("n", T0 + timedelta(days=2), limit=100)
    assert len(claimed) == 3  # max_concurrent
    cs.control(cid, "stop", T0)
    assert cs.report(cid)["planned"] == 0


@pytest.mark.pg
def test_two_ends_of_one_attempt_plan_one_retry(pg_url: str) -> None:
    """Two nodes ending the same attempt at once (a repeated callback, a sweep) plan its member once.

    The campaign row is held locked while both ends start, so each has read the attempt before
    either commits; the second must see the first's end once it gets the lock.
    """
    from sqlalchemy import create_engine, select, text

    from agent.store.campaign_models import CampaignAttemptRow, CampaignRow

    store = Store.open(pg_url, "k" * 32)
    try:
        cs = CampaignStore(store, "n" * 32, "c" * 32)
        cid = cs.create(SPEC, T0)
        cs.add_members(cid, [{"phone": "+12025551000", "timezone": "America/New_York", "debt_id": "D0"}], T0)
        cs.control(cid, "start", T0)
        cs.report_node("n1", 1, T0)
        (due,) = cs.claim_due("n1", T0 + timedelta(days=1))
        other = create_engine(pg_url)
        with other.connect() as holder, ThreadPoolExecutor(2) as pool:
            holder.execute(select(CampaignRow.id).where(CampaignRow.id == cid).with_for_update())
            pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            ends = [pool.submit(cs.finish, due.attempt_id, Result.no_answer, T0 + timedelta(days=1))
                    for _ in range(2)]
            # sessions waiting on the holder, or on one that waits on it (the lock's queue)
            blocked = text("SELECT count(*) FROM pg_stat_activity a WHERE :pid = ANY(pg_blocking_pids(a.pid))"
                           " OR EXISTS (SELECT 1 FROM pg_stat_activity b"
                           " WHERE :pid = ANY(pg_blocking_pids(b.pid))"
                           " AND b.pid = ANY(pg_blocking_pids(a.pid)))")
            with other.connect() as probe:
                while not any(f.done() for f in ends):
                    waiting = probe.execute(blocked, {"pid": pid}).scalar_one()
                    probe.rollback()  # pg_stat_activity is read once per transaction
                    if waiting == 2:
                        break
                    time.sleep(0.05)
            holder.commit()  # both ends have read the attempt, and queue for the campaign's lock
            for f in ends:
                f.result()
        other.dispose()
        with store.transaction() as s:
            statuses = sorted(s.execute(select(CampaignAttemptRow.status)
                                        .where(CampaignAttemptRow.campaign_id == cid)).scalars())
        assert statuses == ["done", "planned"]  # one end, one next attempt
        assert cs.members(cid)[0]["attempts"] == 1
    finally:
        store.close()


@pytest.mark.pg
def test_one_running_dialer_per_node_id(pg_url: str) -> None:
    """A second dialer process under a node id in use does not start (two would redial each other's calls)."""
    first, second = Store.open(pg_url, "k" * 32), Store.open(pg_url, "k" * 32)
    try:
        a, b = CampaignStore(first, "n" * 32, "c" * 32), CampaignStore(second, "n" * 32, "c" * 32)
        with a.hold_node("host-1"):
            with pytest.raises(Conflict, match="host-1"), b.hold_node("host-1"):
                pass
            with b.hold_node("host-2"):  # another id is fine
                pass
        with b.hold_node("host-1"):  # released with the first dialer
            pass
    finally:
        first.close()
        second.close()


def test_sqlite_serves_one_dialer(sqlite_url: str) -> None:
    store = Store.open(sqlite_url, "k" * 32)
    try:
        with CampaignStore(store, "n" * 32, "c" * 32).hold_node("host-1"):
            pass
    finally:
        store.close()
