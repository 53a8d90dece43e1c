"""REST errors (issue 12, finding 4): every client mistake is a 4xx with a stable code and one
sentence, never SQL, bound parameters or the input; 503 only for a real store outage."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.server.api import router
from agent.server.errors import install_error_handlers
from agent.store import Store

KEY = {"X-API-Key": "test-api-key"}
LEAKS = ("SQL", "INSERT", "SELECT", "phone_hash", "parameters", "Traceback", "psycopg", "sqlite3")


def make_app(store: Store | None, max_body_bytes: int = 4 * 1024 * 1024) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, max_body_bytes)
    app.include_router(router)
    app.state.store = store
    app.state.settings = Settings(server={"api_keys": ["test-api-key"]})  # type: ignore[arg-type]
    return app


@pytest.fixture
def api(store_url: str) -> Iterator[tuple[TestClient, Store]]:
    st = Store.open(store_url, "k")
    yield TestClient(make_app(st)), st
    st.close()


def _customer(client: TestClient) -> str:
    r = client.post(
        "/v1/customers", headers=KEY, json={"phone": "4155554567", "name": "Ann", "timezone": "UTC"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["customer_id"])


def _clean(r: object, status: int, code: str) -> dict[str, object]:
    body = r.json()  # type: ignore[attr-defined]
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert body["error"] == code and isinstance(body["detail"], str) and body["detail"]
    assert not any(leak in r.text for leak in LEAKS), r.text  # type: ignore[attr-defined]
    return dict(body)


def test_naive_granted_at_is_422(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    cid = _customer(client)
    r = client.post(
        f"/v1/customers/{cid}/consents",
        headers=KEY,
        json={"purpose": "marketing", "source": "web", "granted_at": "2025-01-01T00:00:00"},
    )
    body = _clean(r, 422, "invalid_request")
    assert body["fields"] == [{"field": "granted_at", "problem": "Input should have timezone info"}]


def test_a_name_over_200_characters_is_422_without_the_name(api: tuple[TestClient, Store]) -> None:
    client, store = api
    before = len(store.audit_events())
    r = client.post(
        "/v1/customers", headers=KEY, json={"phone": "4155554567", "name": "Zed" * 70, "timezone": "UTC"}
    )
    _clean(r, 422, "invalid_request")
    assert "ZedZed" not in r.text and len(store.audit_events()) == before


def test_a_nul_byte_is_422(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    r = client.post(
        "/v1/customers", headers=KEY, json={"phone": "4155554567", "name": "Ann\x00Lee", "timezone": "UTC"}
    )
    assert "NUL" in _clean(r, 422, "invalid_request")["detail"]  # type: ignore[operator]


def test_a_long_debt_id_is_422(api: tuple[TestClient, Store]) -> None:
    client, store = api
    cid = _customer(client)
    r = client.post(
        "/v1/calls", headers=KEY, json={"customer_id": cid, "purpose": "servicing", "debt_id": "d" * 300}
    )
    _clean(r, 422, "invalid_request")
    assert [e.kind for e in store.audit_events()].count("call_refused") == 0  # refused before the gate


def test_a_one_megabyte_field_is_refused_fast(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    cid = _customer(client)
    started = time.perf_counter()
    r = client.post(
        "/v1/calls",
        headers=KEY,
        json={"customer_id": cid, "purpose": "servicing", "debt_id": "d" * 1_000_000},
    )
    took = time.perf_counter() - started
    _clean(r, 422, "invalid_request")
    assert len(r.content) < 2000  # the value is not echoed
    assert took < 5.0  # generous: the field is refused by its length limit before anything reads it


def test_a_body_over_the_limit_is_413_before_parsing(store_url: str) -> None:
    st = Store.open(store_url, "k")
    try:
        client = TestClient(make_app(st, max_body_bytes=4096))
        r = client.post(
            "/v1/suppressions/import", headers={**KEY, "Content-Type": "text/csv"}, content=b"1" * 10_000
        )
        _clean(r, 413, "body_too_large")
    finally:
        st.close()


def test_a_csv_that_is_not_utf8_is_400(api: tuple[TestClient, Store]) -> None:
    client, store = api
    r = client.post(
        "/v1/suppressions/import",
        headers={**KEY, "Content-Type": "text/csv"},
        content="+14155550191,all,caf\xe9\n".encode("latin-1"),
    )
    _clean(r, 400, "csv_not_utf8")
    assert not store.is_suppressed("+14155550191")
    bad = client.post("/v1/suppressions/import", headers=KEY, content="nonsense\n")
    _clean(bad, 400, "invalid_csv")


def test_other_client_mistakes_have_codes(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    cid = _customer(client)
    _clean(
        client.post("/v1/customers", headers=KEY, json={"phone": "abc", "name": "A", "timezone": "UTC"}),
        400,
        "invalid_phone",
    )
    _clean(
        client.post(
            "/v1/customers", headers=KEY, json={"phone": "4155554567", "name": "A", "timezone": "UTC"}
        ),
        409,
        "already_exists",
    )
    _clean(
        client.post(
            "/v1/customers", headers=KEY, json={"phone": "4155554568", "name": "A", "timezone": "Mars/Base"}
        ),
        422,
        "invalid_request",
    )
    _clean(client.get("/v1/calls/nope", headers=KEY), 404, "not_found")
    _clean(client.post("/v1/calls", headers=KEY, json={"purpose": "servicing"}), 422, "invalid_request")
    _clean(
        client.post(
            "/v1/calls",
            headers=KEY,
            json={"customer_id": cid, "purpose": "servicing", "slots": {"a": "x" * 501}},
        ),
        422,
        "invalid_request",
    )
    _clean(client.post("/v1/calls", headers={"X-API-Key": "wrong"}, json={}), 401, "unauthorized")
    _clean(client.get("/v1/nothing-here", headers=KEY), 404, "not_found")


def test_only_a_real_outage_is_503(store_url: str) -> None:
    st = Store.open(store_url, "k")
    st.close()
    client = TestClient(make_app(st))
    r = client.post("/v1/calls", headers=KEY, json={"phone": "+14155554567", "purpose": "servicing"})
    body = _clean(r, 503, "store_unavailable")
    assert body["refused"] is True and body["reason"] == "store_unavailable"


def test_a_csv_with_a_huge_cell_is_400_naming_the_line(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    body = "+14155550191,all\n" + "1" * 100_000 + ",all\n"
    r = client.post("/v1/suppressions/import", headers={**KEY, "Content-Type": "text/csv"}, content=body)
    assert "line 2" in _clean(r, 400, "invalid_csv")["detail"]  # type: ignore[operator]
    assert len(r.content) < 1000
