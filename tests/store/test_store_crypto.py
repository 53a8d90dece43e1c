"""Stored PII (issue 12, finding 6): names, slots and turn text are sealed at rest (AES-GCM), read back
only with the key, existing plain text is sealed on first open, and a wrong key is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from agent.store import CallGrant, CallRequest, KeyMismatch, Store
from agent.store.crypto import FieldCipher, generate_key

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)


def _rows(store: Store, sql: str) -> list[str]:
    with store._engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(text(sql))]


def _call(store: Store) -> CallGrant:
    cid = store.register_customer(phone="4155554567", name="Ann Lee", timezone="America/New_York", now=NOW)
    grant = store.request_call(
        CallRequest(
            "servicing", "r", cid, debt_id="d1", slots={"customer_name": "Ann Lee", "amount": "1234.50"}
        ),
        NOW,
    )
    assert isinstance(grant, CallGrant)
    return grant


def test_names_slots_and_turns_are_sealed_at_rest(store: Store) -> None:
    grant = _call(store)
    claimed = store.claim_call(grant.call_id, grant.token, NOW)
    assert claimed.customer_name == "Ann Lee" and claimed.slots["amount"] == "1234.50"
    store.record_turn(
        grant.call_id, "agent", "Ann Lee, you owe 1234.50 dollars; card 4111 1111 1111 1111", None, 0, NOW
    )
    raw = " ".join(
        _rows(store, "SELECT name FROM customers")
        + _rows(store, "SELECT slots FROM calls")
        + _rows(store, "SELECT text FROM turns")
    )
    assert "Ann" not in raw and "1234" not in raw and "4111" not in raw
    call = store.get_call(grant.call_id)
    assert call.transcript[0].text == "Ann Lee, you owe 1234.50 dollars; card [CARD]"  # redacted, then sealed
    assert store.get_call(grant.call_id, decrypt=False).transcript[0].text is None


def test_a_sealed_value_moved_to_another_row_does_not_open() -> None:
    cipher = FieldCipher(generate_key())
    sealed = cipher.seal("Ann", "customers.name:a")
    assert cipher.open(sealed, "customers.name:a") == "Ann"
    with pytest.raises(ValueError, match=r"customers\.name"):
        cipher.open(sealed, "customers.name:b")


def test_a_wrong_key_is_refused_at_open(store_url: str) -> None:
    key = generate_key()
    Store.open(store_url, "phone-key", data_key=key).close()
    with pytest.raises(KeyMismatch, match="phone_hash_key"):
        Store.open(store_url, "another-phone-key", data_key=key)
    with pytest.raises(KeyMismatch, match="data_key"):
        Store.open(store_url, "phone-key", data_key=generate_key())
    Store.open(store_url, "phone-key", data_key=key).close()


def test_plain_text_from_before_is_sealed_on_first_open(store_url: str) -> None:
    st = Store.open(store_url, "k")
    grant = _call(st)
    st.record_turn(grant.call_id, "customer", "I am Ann Lee", "inform", 10, NOW)
    with st._engine.begin() as conn:  # what revision 0001 stored: plain text, no key fingerprints
        conn.execute(text("UPDATE customers SET name = 'Ann Lee'"))
        conn.execute(text("""UPDATE calls SET slots = '{"amount": "1234.50"}'"""))
        conn.execute(text("UPDATE turns SET text = 'I am Ann Lee'"))
        conn.execute(text("DELETE FROM store_keys"))
    st.close()
    st = Store.open(store_url, "k")
    try:
        raw = _rows(st, "SELECT name FROM customers") + _rows(st, "SELECT text FROM turns")
        assert all(v.startswith("enc1:") for v in raw)
        assert st.get_call(grant.call_id).transcript[0].text == "I am Ann Lee"
        assert st.claim_call(grant.call_id, grant.token, NOW).slots == {"amount": "1234.50"}
    finally:
        st.close()
