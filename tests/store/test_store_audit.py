"""Audit chain in the store: tampering of each kind is found; the CLI exits 0/1 (SPEC 7.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from agent.store import Store

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)


def _fill(store: Store, n: int = 6) -> None:
    for i in range(n):
        store.record_event(None, "test", {"i": i, "note": "call 415 555 4567"}, NOW + timedelta(seconds=i))


def _sql(store: Store, *stmts: str) -> None:
    with store._engine.begin() as conn:
        for stmt in stmts:
            conn.exec_driver_sql(stmt)


def test_intact_and_redacted(store: Store) -> None:
    _fill(store)
    assert store.verify_audit() == (True, None, "6 events, chain intact")
    assert all("4567" not in e.data for e in store.audit_events())


def test_changed_row(store: Store) -> None:
    _fill(store)
    _sql(store, "UPDATE audit_events SET data = '{\"i\":99}' WHERE seq = 3")
    ok, seq, detail = store.verify_audit()
    assert not ok and seq == 3 and "changed" in detail


def test_deleted_row(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_events WHERE seq = 4")
    ok, seq, _ = store.verify_audit()
    assert not ok and seq == 4


def test_deleted_tail(store: Store) -> None:
    _fill(store)
    _sql(store, "DELETE FROM audit_events WHERE seq = 6")
    ok, seq, detail = store.verify_audit()
    assert not ok and seq == 6 and "missing" in detail


def test_reordered_rows(store: Store) -> None:
    _fill(store)
    _sql(
        store,
        "UPDATE audit_events SET seq = -1 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = -1",
    )
    ok, seq, _ = store.verify_audit()
    assert not ok and seq == 2


def test_cli_verify_exit_codes(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from agent.cli.audit import app

    monkeypatch.setenv("VOICE_AGENT_STORE__URL", store_url)
    monkeypatch.setenv("VOICE_AGENT_STORE__PHONE_HASH_KEY", "test-key")
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")
    store = Store.open(store_url, "test-key")
    _fill(store)
    runner = CliRunner()
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    _sql(store, "UPDATE audit_events SET kind = 'forged' WHERE seq = 2")
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 1
    assert "seq 2" in result.output
    store.close()


def test_concurrent_appends_keep_chain(store_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stores = [Store.open(store_url, "test-key") for _ in range(4)]
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: stores[i % 4].record_event(None, "x", {"i": i}, NOW), range(80)))
        ok, seq, detail = stores[0].verify_audit()
        assert ok, (seq, detail)
        assert len(stores[0].audit_events()) == 80
    finally:
        for st in stores:
            st.close()
