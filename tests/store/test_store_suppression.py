"""Suppression and opt-out: durable, scoped, honoured by every later gate check (SPEC 7.3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.store import CallGrant, CallRequest, Store

NOW = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _customer(store: Store, marketing: bool = True) -> str:
    cid = store.register_customer(
        phone="415-555-4567",
        name="Ann",
        timezone="America/New_York",
        now=NOW,
        lawful_basis={"servicing": "contract", "marketing": "consent"},
    )
    if marketing:
        store.add_consent(cid, "marketing", now=NOW, source="web")
    return cid


def _req(cid: str, purpose: str = "servicing") -> CallRequest:
    return CallRequest(purpose=purpose, use_case="r", customer_id=cid, debt_id="d1")


def test_opt_out_all_refuses_every_later_call(store: Store) -> None:
    cid = _customer(store)
    grant = store.request_call(_req(cid), NOW)
    assert isinstance(grant, CallGrant)
    store.record_opt_out(grant.call_id, "all", "voice", NOW)
    assert store.is_suppressed("+14155554567") and store.is_suppressed("4155554567", "marketing")
    later = NOW + timedelta(days=30)
    assert store.request_call(_req(cid), later).reason == "suppressed"  # type: ignore[union-attr]
    assert store.request_call(_req(cid, "marketing"), later).reason == "suppressed"  # type: ignore[union-attr]
    assert any(e.kind == "opt_out" for e in store.audit_events())


def test_opt_out_marketing_scope_kept(store: Store) -> None:
    cid = _customer(store)
    grant = store.request_call(_req(cid, "marketing"), NOW)
    assert isinstance(grant, CallGrant)
    store.record_opt_out(grant.call_id, "marketing", "dtmf", NOW)
    assert store.request_call(_req(cid, "marketing"), NOW + timedelta(days=1)).reason == "suppressed"  # type: ignore[union-attr]
    assert isinstance(store.request_call(_req(cid), NOW + timedelta(days=1)), CallGrant)
    assert not store.is_suppressed("4155554567", "servicing")


def test_suppress_unsuppress_check_and_import(store: Store) -> None:
    cid = _customer(store, marketing=False)
    assert store.suppress("(415) 555-4567", "all", "crm", NOW) == "+1******4567"
    assert store.request_call(_req(cid), NOW).reason == "suppressed"  # type: ignore[union-attr]
    assert store.unsuppress("+14155554567", NOW) == 1
    assert isinstance(store.request_call(_req(cid), NOW), CallGrant)
    csv_text = "phone,scope,source\n+1 212 555 0100,all,dnc\n2125550101,marketing,\n\n# note\n"
    assert store.import_suppression_csv(csv_text, NOW) == 2
    assert store.suppression_scopes("212-555-0101") == {"marketing"}
    assert store.is_suppressed("2125550100", "servicing")
    with pytest.raises(ValueError, match="line 2"):
        store.import_suppression_csv("+12125550102\nnot-a-phone\n", NOW)
    assert not store.is_suppressed("+12125550102")  # all or nothing
    with pytest.raises(ValueError):
        store.suppress("4155554567", "everything", "x", NOW)


_CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, UTC
    from agent.store import Store, CallRequest
    now = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)
    st = Store.open(sys.argv[1], "test-key")
    cid = st.register_customer(phone="4155554567", name="Ann", timezone="America/New_York", now=now)
    grant = st.request_call(CallRequest("servicing", "r", customer_id=cid, debt_id="d1"), now)
    sys.stdout.write(grant.call_id + "\\n"); sys.stdout.flush()
    st.record_opt_out(grant.call_id, "all", "voice", now)
    os.kill(os.getpid(), signal.SIGKILL)  # killed right after the opt-out is acknowledged
""")


def test_opt_out_survives_killed_process(store_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, store_url],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    store = Store.open(store_url, "test-key")
    try:
        assert store.is_suppressed("+14155554567")
        ok, _, _ = store.verify_audit()
        assert ok
        assert any(e.kind == "opt_out" for e in store.audit_events())
    finally:
        store.close()
