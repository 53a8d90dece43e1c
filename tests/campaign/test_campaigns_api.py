"""REST for campaigns: authenticated management, signed gateway callbacks, CSV import, report PNG."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.dialer.base import Progress
from agent.dialer.dialer import sign
from agent.server.app import create_app
from agent.store import Store

KEY = {"X-API-Key": "dev-key-change-me"}
SPEC = {
    "name": "api",
    "use_case": "repayment_reminder",
    "jurisdiction": "US",
    "caller_ids": ["+12025550100"],
    "gateway": "twilio",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings()
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}", settings.store.phone_hash_key)
    runtime = SimpleNamespace(settings=settings, store=store, metrics=None, engines=None)
    with TestClient(create_app(runtime)) as c:
        yield c
    store.close()


def test_management_needs_the_api_key(client: TestClient) -> None:
    assert client.post("/v1/campaigns", json=SPEC).status_code == 401
    assert client.get("/v1/campaigns").status_code == 401
    assert client.post("/v1/campaigns/x/start").status_code == 401


def test_create_import_start_progress_png(client: TestClient) -> None:
    bad = client.post("/v1/campaigns", json={**SPEC, "caller_ids": ["nope"]}, headers=KEY)
    assert bad.status_code == 422 and "caller_ids" in bad.json()["detail"]
    cid = client.post("/v1/campaigns", json=SPEC, headers=KEY).json()["campaign_id"]
    csv = "phone,name,timezone,debt_id,amount_due\n+12025551234,Ann,America/New_York,D1,$5.00\n"
    got = client.post(
        f"/v1/campaigns/{cid}/members", content=csv, headers={**KEY, "content-type": "text/csv"}
    )
    assert got.json() == {"imported": 1}
    got = client.post(
        f"/v1/campaigns/{cid}/members",
        json=[{"phone": "+12025551235", "timezone": "America/Chicago"}],
        headers=KEY,
    )
    assert got.json() == {"imported": 1}
    bad = client.post(f"/v1/campaigns/{cid}/members", json=[{"phone": "x", "timezone": "UTC"}], headers=KEY)
    assert bad.status_code == 400 and "member 1" in bad.json()["detail"]
    members = client.get(f"/v1/campaigns/{cid}/members", headers=KEY).json()
    assert [m["phone"] for m in members] == ["+1******1234", "+1******1235"]
    assert client.post(f"/v1/campaigns/{cid}/start", headers=KEY).json()["status"] == "running"
    assert client.post(f"/v1/campaigns/{cid}/start", headers=KEY).status_code == 409
    assert client.post(f"/v1/campaigns/{cid}/jump", headers=KEY).status_code == 404
    report = client.get(f"/v1/campaigns/{cid}/progress", headers=KEY).json()
    assert report["members"] == 2 and report["planned"] == 2 and report["abandoned"] == 0
    png = client.get(f"/v1/campaigns/{cid}/report.png", headers=KEY)
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get("/v1/campaigns/nope/progress", headers=KEY).status_code == 404


class _Plane:
    name = "twilio"

    def __init__(self) -> None:
        self.fed: list[tuple[int, dict[str, str]]] = []
        self.events: asyncio.Queue[Progress] = asyncio.Queue()

    def feed(self, attempt_id: int, form: dict[str, str]) -> None:
        self.fed.append((attempt_id, form))


def test_callbacks_need_the_attempts_signature(client: TestClient) -> None:
    plane = _Plane()
    app: Any = client.app
    app.state.dialer = SimpleNamespace(planes={"twilio": plane})
    secret = Settings().campaigns.callback_secret
    url = "/v1/campaigns/callbacks/twilio/7"
    assert client.post(url, data={"CallStatus": "busy"}).status_code == 403
    assert (
        client.post(url + "?sig=" + sign(secret, "twilio", 8), data={"CallStatus": "busy"}).status_code == 403
    )
    ok = client.post(url + "?sig=" + sign(secret, "twilio", 7), data={"CallStatus": "busy"})
    assert ok.status_code == 204 and plane.fed == [(7, {"CallStatus": "busy"})]
