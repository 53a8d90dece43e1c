"""The served app: a checkpoint is signed at shutdown, and POST /v1/calls refuses an unofficial callback."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient

from agent.compliance.callback import OfficialNumbers
from agent.config import Settings
from agent.server.app import create_app
from agent.server.checkpoints import CheckpointWriter, load_or_create_key
from agent.store import Store

KEY = {"X-API-Key": "test-api-key"}


def test_shutdown_checkpoint_and_unofficial_callback_refusal(tmp_path: Path) -> None:
    store = Store.open(
        f"sqlite:///{tmp_path / 'app.db'}", "k", official_numbers=OfficialNumbers.parse(["+1 800 555 0123"])
    )
    settings = Settings(server={"api_keys": ["test-api-key"]})  # type: ignore[arg-type]
    runtime = SimpleNamespace(settings=settings, store=store, metrics=None, engines=None)
    key, _ = load_or_create_key(tmp_path / "audit.key")
    app = create_app(runtime, checkpoints=CheckpointWriter(store, key, "node-a", 3600))
    try:
        with TestClient(app) as client:
            r = client.post(
                "/v1/customers",
                headers=KEY,
                json={"phone": "(415) 555-4567", "name": "Ann", "timezone": "Pacific/Kiritimati"},
            )
            cid = r.json()["customer_id"]
            body = {"customer_id": cid, "purpose": "servicing", "debt_id": "d1"}
            bad = client.post(
                "/v1/calls", headers=KEY, json={**body, "slots": {"callback_number": "800-555-0199"}}
            )
            assert bad.status_code == 403 and bad.json()["reason"] == "unofficial_callback_number"
            assert "unofficial_callback_number" in client.get("/metrics").text
            assert store.checkpoints() == []  # the interval has not passed
        (cp,) = store.checkpoints()  # written at shutdown
        assert cp.node_id == "node-a" and cp.seq == len(store.audit_events())
    finally:
        store.close()
