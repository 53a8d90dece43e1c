"""Fail closed (SPEC 7.8): when the store cannot be written, StoreUnavailable, and nothing is acknowledged."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.store import CallGrant, CallRequest, Store, StoreUnavailable

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)


def test_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable):
        Store.open(f"sqlite:///{blocker / 'sub' / 'x.db'}", "k")


def test_unreachable_postgres() -> None:
    with pytest.raises(StoreUnavailable):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/test", "k")


def test_closed_store(store_url: str) -> None:
    st = Store.open(store_url, "k")
    st.close()
    assert not st.healthy()
    with pytest.raises(StoreUnavailable):
        st.request_call(CallRequest("servicing", "r", customer_id="x"), NOW)
    with pytest.raises(StoreUnavailable):
        st.suppress("4155554567", "all", "x", NOW)


def test_locked_database_refuses_and_persists_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    st = Store.open(f"sqlite:///{path}", "k", busy_timeout_ms=100)
    cid = st.register_customer(phone="4155554567", name="A", timezone="America/New_York", now=NOW)
    grant = st.request_call(CallRequest("servicing", "r", customer_id=cid, debt_id="d"), NOW)
    assert isinstance(grant, CallGrant)
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        assert not st.healthy()
        with pytest.raises(StoreUnavailable):
            st.record_opt_out(grant.call_id, "all", "voice", NOW)
        with pytest.raises(StoreUnavailable):
            st.request_call(CallRequest("servicing", "r", customer_id=cid, debt_id="d"), NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert st.healthy()
    assert not st.is_suppressed("4155554567")  # the failed opt-out was not half-written
    assert st.verify_audit()[0]
    st.close()
