"""The dialer's bookkeeping on the real campaign store, with an in-memory control plane (no models).

Every path must give the call slot back: a store error while ending an attempt, an error
while placing one, attempts left `dialing` by an earlier run of the node, an answering
machine reported before the gateway named the call; and Twilio's SIP codes tell a number
not in service from a failed call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.campaign.model import CONVERSATION, Campaign, Result
from agent.dialer import twilio
from agent.dialer.base import Origination, Progress
from agent.dialer.dialer import Dialer
from agent.store import Store, StoreError
from agent.store.campaigns import CampaignStore

T0 = datetime(2025, 6, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York
LATER = T0 + timedelta(days=1)  # every first attempt is due
SPEC = Campaign.model_validate({
    "name": "dialer", "use_case": "repayment_reminder", "jurisdiction": "US",
    "caller_ids": ["+12025550100"], "pace": {"max_concurrent": 5, "calls_per_second": 50},
})


class Plane:
    """A control plane that records what it is asked and reports what the test feeds it."""

    name = "twilio"

    def __init__(self) -> None:
        self.events: asyncio.Queue[Progress] = asyncio.Queue()
        self.placed: list[Origination] = []
        self.hangups: list[str] = []
        self.fail_to: set[str] = set()  # numbers whose originate raises a bug, not OriginateFailed
        self.before_reply: Any = None  # awaited inside originate, before the reference returns
        self.dialled = asyncio.Event()  # set by the first call placed

    async def originate(self, o: Origination) -> str:
        if o.to in self.fail_to:
            raise RuntimeError("bug in the control plane")
        self.placed.append(o)
        self.dialled.set()
        if self.before_reply is not None:
            await self.before_reply(o)
        return f"ref-{o.attempt_id}"

    async def hangup(self, ref: str) -> None:
        self.hangups.append(ref)

    async def close(self) -> None:
        return None


@pytest.fixture
def stores(sqlite_url: str) -> Iterator[tuple[Store, CampaignStore]]:
    store = Store.open(sqlite_url, "k" * 32)
    yield store, CampaignStore(store, "n" * 32, "c" * 32)
    store.close()


def _campaign(cs: CampaignStore, n: int) -> str:
    cid = cs.create(SPEC, T0)
    members = [{"phone": f"+1202555{1000 + i}", "timezone": "America/New_York", "name": f"Pat {i}",
                "debt_id": f"D{i}", "amount_due": "10.00"} for i in range(n)]
    cs.add_members(cid, members, T0)
    cs.control(cid, "start", T0)
    return cid


def _dialer(stores: tuple[Store, CampaignStore], plane: Plane, slots: int = 4) -> Dialer:
    store, cs = stores
    return Dialer(cs, store, {"twilio": plane}, node_id="n1", slots=slots, public_url="http://node",
                  callback_secret="s" * 32, clock=lambda: LATER)


async def test_a_store_error_while_ending_keeps_the_slot_until_the_end_is_stored(
        stores: tuple[Store, CampaignStore], monkeypatch: pytest.MonkeyPatch) -> None:
    _store, cs = stores
    cid = _campaign(cs, 1)
    plane = Plane()
    dialer = _dialer(stores, plane)
    await dialer.tick()
    (attempt_id,) = dialer.live
    real_finish = cs.finish

    def broken(*args: Any) -> None:
        raise StoreError("database is locked")

    monkeypatch.setattr(cs, "finish", broken)
    await dialer.on_progress(Progress(attempt_id, "ended", Result.busy, detail="busy"))
    assert attempt_id in dialer.live  # not stored yet: the slot stays held, the end is kept
    assert cs.report(cid)["dialing"] == 1
    monkeypatch.setattr(cs, "finish", real_finish)
    await dialer.tick()  # retries the kept end
    assert dialer.live == {}
    info = cs.attempt_info(attempt_id)
    assert info["status"] == "done" and info["result"] == "busy"
    assert cs.report(cid)["planned"] == 1  # the busy member is planned again


async def test_an_error_placing_one_attempt_ends_it_and_the_others_are_placed(
        stores: tuple[Store, CampaignStore]) -> None:
    _store, cs = stores
    cid = _campaign(cs, 3)
    plane = Plane()
    plane.fail_to = {"+12025551001"}
    dialer = _dialer(stores, plane)
    await dialer.tick()
    assert sorted(o.to for o in plane.placed) == ["+12025551000", "+12025551002"]
    report = cs.report(cid)
    assert report["dialing"] == 2 == len(dialer.live)  # only the calls that are up hold slots
    assert report["results"] == {"failed": 1}


async def test_an_error_in_the_gate_ends_that_attempt_and_frees_its_slot(
        stores: tuple[Store, CampaignStore], monkeypatch: pytest.MonkeyPatch) -> None:
    store, cs = stores
    cid = _campaign(cs, 2)
    real = store.request_call
    seen: list[str] = []

    def first_raises(request: Any, now: datetime) -> Any:
        seen.append(request.customer_id)
        if len(seen) == 1:
            raise RuntimeError("a bug in the gate")
        return real(request, now)

    monkeypatch.setattr(store, "request_call", first_raises)
    plane = Plane()
    dialer = _dialer(stores, plane)
    await dialer.tick()
    report = cs.report(cid)
    assert len(plane.placed) == 1 and report["dialing"] == 1 == len(dialer.live)
    assert report["results"] == {"failed": 1}


async def test_attempts_left_dialing_by_an_earlier_run_of_the_node_are_ended(
        stores: tuple[Store, CampaignStore]) -> None:
    _store, cs = stores
    cid = _campaign(cs, 3)
    cs.report_node("n1", 2, LATER)
    orphans = cs.claim_due("n1", LATER)  # the node crashed after claiming these
    assert len(orphans) == 2
    plane = Plane()
    dialer = _dialer(stores, plane, slots=2)
    await dialer.tick()  # no free slot yet: the orphans hold both; they are ended
    report = cs.report(cid)
    assert report["results"] == {"failed": 2} and report["dialing"] == 0
    await dialer.tick()  # the slots are free again: the third member is dialled
    assert len(plane.placed) == 1 and plane.placed[0].to not in {o.phone for o in orphans}
    assert cs.report(cid)["dialing"] == 1 == len(dialer.live)


async def test_a_machine_reported_before_the_reference_is_hung_up_once_it_is_known(
        stores: tuple[Store, CampaignStore]) -> None:
    _store, cs = stores
    _campaign(cs, 1)
    plane = Plane()
    dialer = _dialer(stores, plane)

    async def amd_first(o: Origination) -> None:
        await dialer.on_progress(Progress(o.attempt_id, "answered", machine=True))

    plane.before_reply = amd_first
    await dialer.tick()
    (attempt_id,) = dialer.live
    assert plane.hangups == [f"ref-{attempt_id}"]


async def test_a_machine_is_no_conversation_whatever_the_session_recorded(
        stores: tuple[Store, CampaignStore]) -> None:
    store, cs = stores
    cid = _campaign(cs, 1)
    plane = Plane()
    dialer = _dialer(stores, plane)
    await dialer.tick()
    (attempt_id,) = dialer.live
    call_id = dialer.live[attempt_id].call_id
    await dialer.on_progress(Progress(attempt_id, "answered", machine=True))

    async def session_closes() -> None:  # the session heard the greeting, then the hang-up
        await asyncio.sleep(0.2)
        await asyncio.to_thread(store.finish_call, call_id, "hangup", {}, LATER)
        assert store.get_call(call_id, decrypt=False).conversation

    session = asyncio.create_task(session_closes())
    await dialer.on_progress(Progress(attempt_id, "ended", Result.voicemail))  # the gateway's end comes first
    await session
    record = store.get_call(call_id, decrypt=False)
    assert record.outcome == "voicemail" and not record.conversation  # no Reg F rest period
    assert cs.attempt_info(attempt_id)["result"] == "voicemail" and cs.report(cid)["planned"] == 1


async def test_the_loop_survives_a_failing_tick(stores: tuple[Store, CampaignStore],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _store, cs = stores
    _campaign(cs, 1)
    plane = Plane()
    dialer = _dialer(stores, plane)
    dialer.tick_s = 0.01
    calls = {"n": 0}
    real = cs.report_node

    def flaky(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in one tick")
        real(*args)

    monkeypatch.setattr(cs, "report_node", flaky)
    task = asyncio.create_task(dialer.run())
    try:
        dialled = asyncio.create_task(plane.dialled.wait())
        await asyncio.wait([task, dialled], return_when=asyncio.FIRST_COMPLETED)
        dialled.cancel()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert calls["n"] >= 2 and len(plane.placed) == 1


@pytest.mark.parametrize(("status", "code", "result"), [
    ("failed", "404", Result.not_in_service), ("failed", "410", Result.not_in_service),
    ("failed", "480", Result.no_answer), ("failed", "486", Result.busy), ("failed", "503", Result.failed),
    ("failed", "", Result.failed), ("busy", "486", Result.busy), ("no-answer", "487", Result.no_answer),
])
def test_twilio_sip_codes_say_why_a_call_failed(status: str, code: str, result: Result) -> None:
    form = {"CallStatus": status, **({"SipResponseCode": code} if code else {})}
    event = twilio.progress(7, form)
    assert event is not None and event.kind == "ended" and event.result == result


@pytest.mark.parametrize(
    ("outcome", "result"),
    [("voicemail", Result.voicemail), ("carrier", Result.carrier), ("busy", Result.busy),
     ("not_in_service", Result.not_in_service), ("hangup_before_verdict", Result.no_answer),
     ("opted_out", Result.opt_out), ("callback_later", Result.contact)],
)
def test_the_sessions_screening_outcomes_become_the_attempts_result(outcome: str, result: Result) -> None:
    from agent.dialer.outcomes import result_of
    from agent.store.calls import NO_CONVERSATION

    assert result_of(None, outcome) == result
    assert (outcome in NO_CONVERSATION) == (result not in CONVERSATION)



@pytest.mark.pg
async def test_a_dead_nodes_calls_in_flight_are_ended_by_another_node_a_live_ones_never(pg_url: str) -> None:
    """A node that died for good frees its campaign slots through a live node; a slow one keeps them.

    Both nodes claimed on one PostgreSQL and last reported long ago. The dead one's dialer is
    gone (its node lock is free); the slow one's still runs (its connection holds its lock).
    Only the dead one's attempts are ended (failed: no conversation is proven).
    """
    from agent.dialer.dialer import DEAD_NODE_S

    store = Store.open(pg_url, "k" * 32)
    slow_store = Store.open(pg_url, "k" * 32)  # the slow node's own connection holds its lock
    try:
        cs = CampaignStore(store, "n" * 32, "c" * 32)
        cid = _campaign(cs, 4)
        for node in ("dead", "slow"):
            cs.report_node(node, 2, LATER - timedelta(seconds=DEAD_NODE_S + 1))  # its last report
            assert len(cs.claim_due(node, LATER)) == 2
        with CampaignStore(slow_store, "n" * 32, "c" * 32).hold_node("slow"):
            dialer = _dialer((store, cs), Plane(), slots=0)  # n1 claims nothing of its own
            await dialer.tick()
            assert cs.dialing_on("dead") == []
            assert len(cs.dialing_on("slow")) == 2  # alive: its calls are its own to end
            assert cs.report(cid)["results"] == {"failed": 2}
            await dialer.tick()  # the next ticks change nothing
            assert len(cs.dialing_on("slow")) == 2 and cs.report(cid)["results"] == {"failed": 2}
        await dialer.tick()  # once the slow node's dialer is gone too, its calls are ended as well
        assert cs.dialing_on("slow") == [] and cs.report(cid)["results"] == {"failed": 4}
    finally:
        slow_store.close()
        store.close()


async def test_a_silent_node_on_sqlite_is_the_same_process_restarted_under_another_id(
        stores: tuple[Store, CampaignStore]) -> None:
    """SQLite serves one process: a node id that stopped reporting is an earlier run; its calls end."""
    from agent.dialer.dialer import DEAD_NODE_S

    _store, cs = stores
    cid = _campaign(cs, 2)
    cs.report_node("old-name", 2, LATER - timedelta(seconds=DEAD_NODE_S + 1))
    assert len(cs.claim_due("old-name", LATER)) == 2
    await _dialer(stores, Plane(), slots=0).tick()
    assert cs.dialing_on("old-name") == [] and cs.report(cid)["results"] == {"failed": 2}
