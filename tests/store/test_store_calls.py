"""Store: gate through the store, tokens, turns, call record, consent (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.store import CallGrant, CallRefusal, CallRequest, InvalidToken, NotFound, Store

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York


def register(store: Store, phone: str = "(415) 555-4567", tz: str = "America/New_York") -> str:
    return store.register_customer(phone=phone, name="Ann Lee", timezone=tz, now=NOW)


def req(cid: str, **kw: object) -> CallRequest:
    return CallRequest(
        purpose=str(kw.pop("purpose", "servicing")),
        use_case="repayment_reminder",
        customer_id=cid,
        debt_id="d1",
        slots={"amount": "1234.50"},
        **kw,
    )  # type: ignore[arg-type]


def test_grant_claim_and_record(store: Store) -> None:
    cid = register(store)
    grant = store.request_call(req(cid), NOW)
    assert isinstance(grant, CallGrant) and grant.expires_at == NOW + timedelta(seconds=300)
    claimed = store.claim_call(grant.call_id, grant.token, NOW + timedelta(seconds=5))
    assert claimed.customer_name == "Ann Lee" and claimed.slots == {"amount": "1234.50"}
    assert claimed.phone_masked == "+1******4567" and claimed.jurisdiction == "US"
    with pytest.raises(InvalidToken):
        store.claim_call(grant.call_id, grant.token, NOW)  # single use
    store.record_turn(grant.call_id, "agent", "Hello, this is an AI assistant.", None, 0, NOW)
    store.record_turn(
        grant.call_id, "customer", "my card is 4111 1111 1111 1111, email a@b.com", "inform", 2100, NOW
    )
    store.finish_call(grant.call_id, "completed", {"v2v_ms": [420, 510]}, NOW + timedelta(minutes=2))
    call = store.get_call(grant.call_id)
    assert call.outcome == "completed" and call.timings == {"v2v_ms": [420, 510]}
    assert call.transcript[1].text == "my card is [CARD], email [EMAIL]"
    assert call.phone == "+1******4567" and not hasattr(call, "slots")
    assert store.verify_audit()[0] and store.healthy()


def test_token_wrong_or_expired(store: Store) -> None:
    cid = register(store)
    grant = store.request_call(req(cid), NOW)
    assert isinstance(grant, CallGrant)
    with pytest.raises(InvalidToken):
        store.claim_call(grant.call_id, "nope", NOW)
    with pytest.raises(InvalidToken):
        store.claim_call("unknown", grant.token, NOW)
    with pytest.raises(InvalidToken):
        store.claim_call(grant.call_id, grant.token, NOW + timedelta(seconds=300))


def test_refusals_recorded_with_reason(store: Store) -> None:
    cid = register(store)
    night = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)  # 23:00 in New York
    refusal = store.request_call(req(cid), night)
    assert refusal == CallRefusal("outside_window", refusal.detail)  # type: ignore[union-attr]
    assert store.request_call(CallRequest("servicing", "x", phone="+1 212 555 0100"), NOW).reason == (  # type: ignore[union-attr]
        "not_registered"
    )
    assert store.request_call(req(cid, purpose="marketing"), NOW).reason == "no_lawful_basis"  # type: ignore[union-attr]
    kinds = [e.kind for e in store.audit_events()]
    assert kinds.count("call_refused") == 3


def test_marketing_needs_consent(store: Store) -> None:
    cid = store.register_customer(
        phone="4155554567",
        name="A",
        timezone="America/New_York",
        now=NOW,
        lawful_basis={"servicing": "contract", "marketing": "consent"},
    )
    assert store.request_call(req(cid, purpose="marketing"), NOW).reason == "no_consent"  # type: ignore[union-attr]
    store.add_consent(cid, "marketing", now=NOW, source="web-form")
    assert isinstance(store.request_call(req(cid, purpose="marketing"), NOW), CallGrant)
    store.withdraw_consent(cid, "marketing", now=NOW, via="api")
    assert (
        store.request_call(req(cid, purpose="marketing"), NOW + timedelta(seconds=1)).reason == "no_consent"
    )  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        store.add_consent("nobody", "marketing", now=NOW, source="x")


def placed(store: Store, cid: str, at: datetime) -> CallGrant:
    """A granted call that a transport then claimed: an attempt that counts whatever its outcome."""
    grant = store.request_call(req(cid), at)
    assert isinstance(grant, CallGrant), grant
    store.claim_call(grant.call_id, grant.token, at + timedelta(seconds=2))
    store.finish_call(grant.call_id, "no_answer", {}, at + timedelta(seconds=30))
    return grant


def test_us_caps_through_store(store: Store) -> None:
    cid = register(store)
    start = datetime(2025, 6, 4, 14, 0, tzinfo=UTC)
    for day in range(7):
        placed(store, cid, start + timedelta(days=day % 6, minutes=day))
    assert store.request_call(req(cid), start + timedelta(days=6)).reason == "cap_7day"  # type: ignore[union-attr]


def test_conversation_starts_quiet_period(store: Store) -> None:
    cid = register(store)
    grant = store.request_call(req(cid), NOW)
    assert isinstance(grant, CallGrant)
    store.finish_call(grant.call_id, "promise_to_pay", {}, NOW)
    assert store.request_call(req(cid), NOW + timedelta(days=6)).reason == "recent_conversation"  # type: ignore[union-attr]
    assert isinstance(store.request_call(req(cid), NOW + timedelta(days=7)), CallGrant)


def test_no_answer_is_not_a_conversation(store: Store) -> None:
    cid = register(store)
    grant = store.request_call(req(cid), NOW)
    assert isinstance(grant, CallGrant)
    store.finish_call(grant.call_id, "no_answer", {}, NOW)
    assert isinstance(store.request_call(req(cid), NOW + timedelta(hours=1)), CallGrant)


def test_cn_daily_cap_through_store(store: Store) -> None:
    cid = store.register_customer(
        phone="13812345678", name="李雷", timezone="Asia/Shanghai", now=NOW, locale="zh-CN", jurisdiction="CN"
    )
    at = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    for i in range(6):
        placed(store, cid, at + timedelta(minutes=i))
    assert store.request_call(req(cid), at + timedelta(hours=1)).reason == "cap_daily"  # type: ignore[union-attr]


def test_stricter_config_cap(store_url: str) -> None:
    st = Store.open(store_url, "k", max_attempts_per_day=2)
    try:
        cid = register(st)
        for i in range(2):
            placed(st, cid, NOW + timedelta(minutes=i))
        assert st.request_call(req(cid), NOW + timedelta(minutes=5)).reason == "cap_daily"  # type: ignore[union-attr]
    finally:
        st.close()


def test_duplicate_customer_conflicts(store: Store) -> None:
    from agent.store import Conflict

    register(store)
    with pytest.raises(Conflict):
        register(store, phone="+14155554567")


def test_reopen_runs_migrations_idempotently(store_url: str) -> None:
    a = Store.open(store_url, "k")
    cid = register(a)
    a.close()
    b = Store.open(store_url, "k")
    assert isinstance(b.request_call(req(cid), NOW), CallGrant)
    b.close()
