"""Records that close (issue 12, finding 6): expired grants, dead claimed calls, dial results, and
what each counts for the caps and the rest rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.store import CallGrant, CallRequest, InvalidToken, Store, WrongState

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York
TTL = timedelta(seconds=300)


def _customer(store: Store) -> str:
    return store.register_customer(phone="4155554567", name="Ann", timezone="America/New_York", now=NOW)


def _grant(store: Store, cid: str, at: datetime) -> CallGrant:
    grant = store.request_call(CallRequest("servicing", "r", customer_id=cid, debt_id="d1"), at)
    assert isinstance(grant, CallGrant), grant
    return grant


def _kinds(store: Store) -> list[str]:
    return [e.kind for e in store.audit_events()]


def test_an_expired_unused_grant_is_closed_and_not_an_attempt(store: Store) -> None:
    cid = _customer(store)
    for i in range(7):
        _grant(store, cid, NOW + timedelta(seconds=i))
    assert store.request_call(
        CallRequest("servicing", "r", cid, debt_id="d1"), NOW + timedelta(seconds=60)
    ).reason == (  # type: ignore[union-attr]
        "cap_7day"
    )  # pending grants count: they may be ringing
    later = NOW + TTL + timedelta(seconds=10)
    assert isinstance(_grant(store, cid, later), CallGrant)  # the 7 expired unused: not attempts
    assert _kinds(store).count("call_expired") == 7
    assert store.close_stale(later + TTL) == 1  # the sweeper closes the last one
    first = store.audit_events()[-1]
    assert first.kind == "call_expired"


def test_a_dial_result_makes_an_expired_grant_count(store: Store) -> None:
    cid = _customer(store)
    grants = [_grant(store, cid, NOW + timedelta(seconds=i)) for i in range(7)]
    for i, g in enumerate(grants):
        store.report_dial(
            g.call_id, ["no_answer", "busy", "voicemail"][i % 3], NOW + timedelta(seconds=20), "dialer-1"
        )
    later = NOW + TTL + timedelta(minutes=1)
    assert store.request_call(CallRequest("servicing", "r", cid, debt_id="d1"), later).reason == "cap_7day"  # type: ignore[union-attr]
    call = store.get_call(grants[0].call_id)
    assert call.status == "finished" and call.outcome == "no_answer" and call.conversation is False
    with pytest.raises(InvalidToken):  # a reported grant cannot start a call any more
        store.claim_call(grants[1].call_id, grants[1].token, NOW + timedelta(seconds=30))
    assert "dial_result" in _kinds(store)


def test_a_late_dial_result_for_a_swept_grant_counts(store: Store) -> None:
    cid = _customer(store)
    g = _grant(store, cid, NOW)
    assert store.close_stale(NOW + TTL) == 1
    assert store.get_call(g.call_id).outcome == "expired"
    store.report_dial(g.call_id, "carrier_announcement", NOW + TTL + timedelta(seconds=1), "dialer-1")
    assert store.get_call(g.call_id).outcome == "carrier_announcement"


def test_a_dial_result_for_a_claimed_call_is_refused(store: Store) -> None:
    cid = _customer(store)
    g = _grant(store, cid, NOW)
    store.claim_call(g.call_id, g.token, NOW)
    with pytest.raises(WrongState):
        store.report_dial(g.call_id, "busy", NOW, "dialer-1")
    with pytest.raises(ValueError):
        store.report_dial(g.call_id, "answered", NOW, "dialer-1")


@pytest.mark.parametrize("customer_spoke", [True, False])
def test_a_claimed_call_left_by_a_crash_is_interrupted(store: Store, customer_spoke: bool) -> None:
    cid = _customer(store)
    g = _grant(store, cid, NOW)
    store.claim_call(g.call_id, g.token, NOW)
    store.record_turn(g.call_id, "agent", "Hello, this is an AI assistant calling for Acme.", None, 0, NOW)
    if customer_spoke:
        store.record_turn(g.call_id, "customer", "yes speaking", "affirm", 1500, NOW)
    limit = timedelta(minutes=7)
    assert store.close_stale(NOW + timedelta(minutes=6), claimed_for=limit) == 0  # may still be live
    assert store.close_stale(NOW + timedelta(minutes=8), claimed_for=limit) == 1
    call = store.get_call(g.call_id)
    assert call.status == "finished" and call.outcome == "interrupted"
    assert call.conversation is customer_spoke
    nxt = store.request_call(CallRequest("servicing", "r", cid, debt_id="d1"), NOW + timedelta(days=1))
    if customer_spoke:  # conservative: a customer who spoke had a conversation, quiet days follow
        assert nxt.reason == "recent_conversation"  # type: ignore[union-attr]
    else:
        assert isinstance(nxt, CallGrant)
    assert "call_interrupted" in _kinds(store) and store.verify_audit().ok
