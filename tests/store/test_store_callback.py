"""POST /v1/calls' gate in the store refuses an unofficial callback number and records it like any refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from agent.compliance.callback import OfficialNumbers
from agent.store import CallGrant, CallRefusal, CallRequest, Store

NOON_NY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _call(customer_id: str, callback: str) -> CallRequest:
    return CallRequest(
        "servicing",
        "repayment_reminder",
        customer_id=customer_id,
        debt_id="d1",
        slots={"callback_number": callback},
    )


def test_unofficial_callback_number_is_refused_and_recorded(store_url: str) -> None:
    store = Store.open(store_url, "k", official_numbers=OfficialNumbers.parse(["+1 800 555 0123"]))
    try:
        cid = store.register_customer(
            phone="+1 415 555 0100", name="Ann", timezone="America/New_York", now=NOON_NY
        )
        refusal = store.request_call(_call(cid, "800-555-0199"), NOON_NY)
        assert isinstance(refusal, CallRefusal) and refusal.reason == "unofficial_callback_number"
        assert isinstance(store.request_call(_call(cid, "800 555 0123"), NOON_NY), CallGrant)
        with store._engine.connect() as conn:
            reasons = [r[0] for r in conn.execute(text("SELECT reason FROM contact_attempts ORDER BY id"))]
        assert reasons == ["unofficial_callback_number", "ok"]
        refused = [e for e in store.audit_events() if e.kind == "call_refused"]
        assert json.loads(refused[0].data)["reason"] == "unofficial_callback_number"
        assert "0199" not in refused[0].data
    finally:
        store.close()
