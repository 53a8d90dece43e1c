"""REST API: the gate, call records, suppression, audit, API-key auth on every route, fail closed (SPEC 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.server.api import router
from agent.server.auth import check_twilio_signature, twilio_signature
from agent.server.errors import install_error_handlers
from agent.store import Store

KEY = {"X-API-Key": "test-api-key"}


def make_app(store: Store | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, 4 * 1024 * 1024)
    app.include_router(router)
    app.state.store = store
    app.state.settings = Settings(server={"api_keys": ["test-api-key"]})  # type: ignore[arg-type]
    return app


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(f"sqlite:///{tmp_path / 'api.db'}", "k")
    yield st
    st.close()


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(make_app(store))


def _register(client: TestClient, tz: str = "Pacific/Kiritimati") -> str:
    r = client.post(
        "/v1/customers",
        headers=KEY,
        json={
            "phone": "(415) 555-4567",
            "name": "Ann",
            "timezone": tz,
            "lawful_basis": {"servicing": "contract", "marketing": "consent"},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+1******4567"
    return str(r.json()["customer_id"])


def _window_tz() -> str:
    """An IANA zone where it is now between 10:00 and 19:00, so the window check passes."""
    from scripts.gate_race import window_zone

    return window_zone()


def test_full_flow(client: TestClient, store: Store) -> None:
    cid = _register(client, _window_tz())
    r = client.post(
        "/v1/calls",
        headers=KEY,
        json={"customer_id": cid, "purpose": "servicing", "debt_id": "d1", "slots": {"amount": "12.50"}},
    )
    assert r.status_code == 201, r.text
    grant = r.json()
    assert set(grant) == {"call_id", "token", "expires_at"}
    r = client.post("/v1/calls", headers=KEY, json={"customer_id": cid, "purpose": "marketing"})
    assert r.status_code == 403 and r.json() == {
        "refused": True,
        "reason": "no_consent",
        "detail": "no active consent for marketing",
    }
    assert (
        client.post(
            f"/v1/customers/{cid}/consents", headers=KEY, json={"purpose": "marketing", "source": "web"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/v1/calls", headers=KEY, json={"phone": "+14155554567", "purpose": "marketing"}
        ).status_code
        == 201
    )
    store.record_turn(
        grant["call_id"],
        "customer",
        "call me on 415 555 4567",
        "inform",
        10,
        __import__("datetime").datetime.now(__import__("datetime").UTC),
    )
    r = client.get(f"/v1/calls/{grant['call_id']}", headers=KEY)
    assert r.status_code == 200 and r.json()["transcript"][0]["text"] == "call me on [PHONE]"
    assert client.get("/v1/calls/nope", headers=KEY).status_code == 404
    r = client.post("/v1/audit/verify", headers=KEY)
    assert r.json()["ok"] is True and r.json()["first_bad_seq"] is None


def test_not_registered_and_bad_input(client: TestClient) -> None:
    r = client.post("/v1/calls", headers=KEY, json={"phone": "+12125550100", "purpose": "servicing"})
    assert r.status_code == 403 and r.json()["reason"] == "not_registered"
    assert client.post("/v1/calls", headers=KEY, json={"purpose": "servicing"}).status_code == 422
    assert (
        client.post("/v1/calls", headers=KEY, json={"customer_id": "x", "purpose": "sales"}).status_code
        == 422
    )
    bad = client.post("/v1/customers", headers=KEY, json={"phone": "abc", "name": "A", "timezone": "UTC"})
    assert bad.status_code == 400


def test_suppression_routes(client: TestClient) -> None:
    cid = _register(client, _window_tz())
    r = client.post("/v1/suppressions", headers=KEY, json={"phone": "415-555-4567", "scope": "all"})
    assert r.status_code == 201 and r.json() == {"phone": "+1******4567", "scope": "all"}
    r = client.get("/v1/suppressions/check", headers=KEY, params={"phone": "+14155554567"})
    assert r.json() == {"phone": "+1******4567", "suppressed": True, "scopes": ["all"]}
    r = client.post("/v1/calls", headers=KEY, json={"customer_id": cid, "purpose": "servicing"})
    assert r.status_code == 403 and r.json()["reason"] == "suppressed"
    gone = client.delete("/v1/suppressions/+14155554567", headers=KEY, params={"reason": "customer asked"})
    assert gone.json() == {"removed": 1}
    assert (
        client.get("/v1/suppressions/check", headers=KEY, params={"phone": "4155554567"}).json()["suppressed"]
        is False
    )
    r = client.post(
        "/v1/suppressions/import",
        headers={**KEY, "Content-Type": "text/csv"},
        content="phone,scope\n+12125550100,marketing\n2125550101\n",
    )
    assert r.status_code == 200 and r.json() == {"imported": 2}
    r = client.get(
        "/v1/suppressions/check", headers=KEY, params={"phone": "2125550100", "purpose": "marketing"}
    )
    assert r.json()["suppressed"] is True
    bad = client.post("/v1/suppressions/import", headers=KEY, content="nonsense\n")
    assert bad.status_code == 400


ROUTES = [
    ("post", "/v1/customers", {"phone": "4155554567", "name": "A", "timezone": "UTC"}),
    ("post", "/v1/customers/x/consents", {"purpose": "marketing", "source": "w"}),
    ("post", "/v1/calls", {"customer_id": "x", "purpose": "servicing"}),
    ("get", "/v1/calls/x", None),
    ("post", "/v1/suppressions", {"phone": "4155554567"}),
    ("delete", "/v1/suppressions/4155554567", None),
    ("get", "/v1/suppressions/check?phone=4155554567", None),
    ("post", "/v1/suppressions/import", None),
    ("post", "/v1/audit/verify", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_every_route_needs_api_key(
    client: TestClient, store: Store, method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    before = len(store.audit_events())
    r = client.request(method.upper(), path, json=body, headers=headers)
    assert r.status_code == 401
    assert len(store.audit_events()) == before  # nothing changed


def test_store_down_refuses_with_503(tmp_path: Path) -> None:
    st = Store.open(f"sqlite:///{tmp_path / 'down.db'}", "k")
    st.close()
    client = TestClient(make_app(st))
    r = client.post("/v1/calls", headers=KEY, json={"phone": "+14155554567", "purpose": "servicing"})
    assert r.status_code == 503 and r.json()["refused"] is True and r.json()["reason"] == "store_unavailable"
    assert client.post("/v1/suppressions", headers=KEY, json={"phone": "4155554567"}).status_code == 503
    no_store = TestClient(make_app(None))
    assert (
        no_store.post(
            "/v1/calls", headers=KEY, json={"phone": "+14155554567", "purpose": "servicing"}
        ).status_code
        == 503
    )


def test_transport_token_helper(store: Store) -> None:
    import asyncio
    from datetime import UTC, datetime

    from agent.server.auth import check_transport_token
    from agent.store import CallGrant, CallRequest, InvalidToken

    now = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)
    cid = store.register_customer(phone="4155554567", name="A", timezone="America/New_York", now=now)
    grant = store.request_call(CallRequest("servicing", "r", customer_id=cid), now)
    assert isinstance(grant, CallGrant)
    claimed = asyncio.run(check_transport_token(store, grant.call_id, grant.token, now))
    assert claimed.call_id == grant.call_id
    with pytest.raises(InvalidToken):
        asyncio.run(check_transport_token(store, grant.call_id, grant.token, now))


def test_twilio_signature() -> None:
    # Example from Twilio's "Webhooks security" documentation.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    sig = twilio_signature(url, params, "12345")
    assert sig == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert check_twilio_signature(url, params, sig, "12345")
    assert not check_twilio_signature(url, params, sig, "other")
    ws = "wss://example.com/twilio?call_id=abc"
    assert check_twilio_signature(ws, {}, twilio_signature(ws, {}, "tok"), "tok")
    assert not check_twilio_signature(ws, {}, None, "tok")
