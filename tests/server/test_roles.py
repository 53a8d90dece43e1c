"""API keys carry roles (issue 12, finding 3): each route checks its permission, removing a
suppression needs its permission and a reason and is audited, /metrics and docs can be closed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import ConfigError, Settings, load_settings
from agent.runtime import Runtime
from agent.server.app import create_app
from agent.server.roles import ROLES, Permission, UnknownRole, permissions
from agent.store import Store
from tests.server.test_api import _window_tz

KEYS = {
    "admin": "admin-key-0123456789",
    "operator": "operator-key-0123456789",
    "compliance": "compliance-key-0123456789",
    "dialer": "dialer-key-0123456789",
    "monitor": "monitor-key-0123456789",
}


def H(role: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}


def _settings(**server: object) -> Settings:
    role_keys = [{"name": f"{r}-1", "key": k, "roles": [r]} for r, k in KEYS.items()]
    return Settings(server={"api_keys": [], "role_keys": role_keys, **server})  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(f"sqlite:///{tmp_path / 'roles.db'}", "k")
    yield st
    st.close()


def _client(store: Store, settings: Settings) -> TestClient:
    return TestClient(create_app(Runtime(settings=settings, engines=None, store=store)))


def _customer(client: TestClient) -> str:
    customer = {"phone": "4155554567", "name": "Ann", "timezone": _window_tz()}
    return str(client.post("/v1/customers", headers=H("dialer"), json=customer).json()["customer_id"])


def test_vocabulary_is_closed_and_admin_has_everything() -> None:
    assert permissions(["admin"]) == frozenset(Permission)
    assert Permission.SUPPRESSION_REMOVE not in permissions(["operator"])
    assert {"operator", "compliance", "author", "reviewer", "admin"} <= set(ROLES)
    with pytest.raises(UnknownRole):
        permissions(["root"])
    with pytest.raises(ConfigError, match="role_keys"):
        load_settings(server={"role_keys": [{"name": "x", "key": "k" * 20, "roles": ["root"]}]})


def test_each_route_checks_its_permission(store: Store) -> None:
    client = _client(store, _settings())
    customer = {"phone": "4155554567", "name": "Ann", "timezone": _window_tz()}
    assert client.post("/v1/customers", headers=H("compliance"), json=customer).status_code == 403
    r = client.post("/v1/customers", headers=H("dialer"), json=customer)
    assert r.status_code == 201, r.text
    cid = r.json()["customer_id"]
    forbidden = client.post("/v1/audit/verify", headers=H("operator"))
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
    assert "audit-read" in forbidden.json()["detail"]
    assert client.post("/v1/audit/verify", headers=H("compliance")).json()["ok"] is True
    assert (
        client.post("/v1/suppressions", headers=H("dialer"), json={"phone": "4155550100"}).status_code == 403
    )
    assert (
        client.post("/v1/suppressions", headers=H("operator"), json={"phone": "4155550100"}).status_code
        == 201
    )
    bearer = {"Authorization": f"Bearer {KEYS['dialer']}"}
    assert (
        client.post(
            "/v1/calls", headers=bearer, json={"customer_id": cid, "purpose": "servicing"}
        ).status_code
        == 201
    )


def test_removing_a_suppression_needs_its_permission_and_a_reason(store: Store) -> None:
    client = _client(store, _settings())
    client.post("/v1/suppressions", headers=H("operator"), json={"phone": "4155550100"})
    path = "/v1/suppressions/4155550100"
    assert client.delete(path, headers=H("operator"), params={"reason": "asked"}).status_code == 403
    no_reason = client.delete(path, headers=H("compliance"))
    assert no_reason.status_code == 422 and no_reason.json()["fields"][0]["field"] == "query.reason"
    ok = client.delete(path, headers=H("compliance"), params={"reason": "customer re-consented by letter"})
    assert ok.json() == {"removed": 1}
    removed = [e for e in store.audit_events() if e.kind == "suppression_removed"][-1]
    data = json.loads(removed.data)
    assert data["reason"] == "customer re-consented by letter" and data["source"] == "api:compliance-1"


def test_transcript_text_only_with_audit_read(store: Store) -> None:
    from datetime import UTC, datetime

    client = _client(store, _settings())
    cid = _customer(client)
    call_id = client.post(
        "/v1/calls", headers=H("dialer"), json={"customer_id": cid, "purpose": "servicing"}
    ).json()["call_id"]
    store.record_turn(call_id, "agent", "Hello Ann, this is an AI assistant.", None, 0, datetime.now(UTC))
    assert client.get(f"/v1/calls/{call_id}", headers=H("dialer")).json()["transcript"][0]["text"] is None
    assert (
        client.get(f"/v1/calls/{call_id}", headers=H("admin"))
        .json()["transcript"][0]["text"]
        .startswith("Hello Ann")
    )


def test_default_script_is_the_use_case_when_none_is_named(store: Store) -> None:
    settings = _settings()
    settings.dialogue.default_script = "credit_limit_notice"
    client = _client(store, settings)
    cid = _customer(client)
    grant = client.post(
        "/v1/calls", headers=H("dialer"), json={"customer_id": cid, "purpose": "servicing"}
    ).json()
    assert store.get_call(grant["call_id"]).use_case == "credit_limit_notice"


def test_dial_result_route(store: Store) -> None:
    client = _client(store, _settings())
    cid = _customer(client)
    grant = client.post(
        "/v1/calls", headers=H("dialer"), json={"customer_id": cid, "purpose": "servicing"}
    ).json()
    path = f"/v1/calls/{grant['call_id']}/dial-result"
    assert client.post(path, headers=H("dialer"), json={"result": "answered"}).status_code == 422
    r = client.post(path, headers=H("dialer"), json={"result": "busy"})
    assert r.json() == {"call_id": grant["call_id"], "outcome": "busy"}
    again = client.post(path, headers=H("dialer"), json={"result": "busy"})
    assert again.status_code == 409 and again.json()["error"] == "wrong_state"


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json", "/redoc"])
def test_metrics_and_docs_can_be_restricted(store: Store, path: str) -> None:
    assert _client(store, _settings()).get(path).status_code == 200  # public by default
    client = _client(store, _settings(metrics_public=False, docs_public=False))
    assert client.get(path).status_code == 401
    wanted = "monitor" if path == "/metrics" else "operator"
    other = "dialer" if path == "/metrics" else "monitor"
    assert client.get(path, headers=H(other)).status_code == 403
    assert client.get(path, headers=H(wanted)).status_code == 200
