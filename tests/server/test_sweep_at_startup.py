"""Records that close at server start-up (issue 12, finding 6): the lifespan sweeps stale calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from agent.config import Settings
from agent.runtime import Runtime
from agent.server.app import create_app
from agent.store import CallGrant, CallRequest, Store
from tests.server.test_api import _window_tz  # now 10:00-19:00 there, so an hour ago is in the window


def test_start_up_closes_expired_grants_and_dead_claimed_calls(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'sweep.db'}", "k")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    cid = store.register_customer(phone="4155554567", name="Ann", timezone=_window_tz(), now=long_ago)
    unused = store.request_call(CallRequest("servicing", "r", cid, debt_id="a"), long_ago)
    crashed = store.request_call(CallRequest("servicing", "r", cid, debt_id="b"), long_ago)
    assert isinstance(unused, CallGrant) and isinstance(crashed, CallGrant)
    store.claim_call(crashed.call_id, crashed.token, long_ago)  # then the node died mid-call
    store.record_turn(crashed.call_id, "customer", "yes this is Ann", "affirm", 900, long_ago)
    settings = Settings()
    settings.call.max_call_s = 300
    try:
        with TestClient(create_app(Runtime(settings=settings, engines=None, store=store))) as client:
            assert client.get("/healthz").status_code == 200
            assert store.get_call(unused.call_id).outcome == "expired"
            dead = store.get_call(crashed.call_id)
            assert dead.outcome == "interrupted" and dead.conversation is True
    finally:
        store.close()
