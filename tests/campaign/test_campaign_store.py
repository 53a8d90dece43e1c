"""The campaign store on SQLite and PostgreSQL: members, plans, claims, results, report."""

from __future__ import annotations

from collections.abc import Iterator
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
