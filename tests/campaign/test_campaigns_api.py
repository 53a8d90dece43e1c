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


def test_management_needs_the_campaigns_permission(tmp_path: Path) -> None:
    keys = {"operator": "o" * 16, "dialer": "d" * 16, "monitor": "m" * 16}
    settings = Settings(server={"api_keys": [], "role_keys": [  # type: ignore[arg-type]
        {"name": f"{r}-1", "key": k, "roles": [r]} for r, k in keys.items()]})
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}", settings.store.phone_hash_key)
    runtime = SimpleNamespace(settings=settings, store=store, metrics=None, engines=None)
    with TestClient(create_app(runtime)) as c:
        for role in ("dialer", "monitor"):
            got = c.post("/v1/campaigns", json=SPEC, headers={"X-API-Key": keys[role]})
            assert got.status_code == 403 and "campaigns permission" in got.text, role
        assert c.get("/v1/campaigns", headers={"X-API-Key": keys["monitor"]}).status_code == 403
        made = c.post("/v1/campaigns", json=SPEC, headers={"X-API-Key": keys["operator"]})
        assert made.status_code == 201
    store.close()


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


def test_cli_verbs_drive_the_rest_api(client: TestClient, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from agent.cli import campaign as cli

    seen: list[str] = []

    def through_app(server: str | None, api_key: str | None) -> Any:
        seen.append(str(api_key))
        client.headers.update({"X-API-Key": str(api_key)})
        return client

    monkeypatch.setattr(cli, "_client", through_app)
    run = CliRunner()
    spec = tmp_path / "c.yaml"
    spec.write_text("name: cli\nuse_case: repayment_reminder\njurisdiction: US\n"
                    "caller_ids: ['+12025550100']\n")
    made = run.invoke(cli.app, ["create", str(spec), "--api-key", "dev-key-change-me"])
    assert made.exit_code == 0, made.output
    cid = made.output.strip()
    members = tmp_path / "m.csv"
    members.write_text("phone,name,timezone,debt_id\n+12025551234,Ann,America/New_York,D1\n")
    key = ["--api-key", "dev-key-change-me"]
    assert "imported 1 members" in run.invoke(cli.app, ["import", cid, str(members), *key]).output
    assert run.invoke(cli.app, ["start", cid, *key]).output.strip() == f"{cid}: running"
    assert run.invoke(cli.app, ["pause", cid, *key]).output.strip() == f"{cid}: paused"
    shown = run.invoke(cli.app, ["status", cid, "--json", *key])
    assert json.loads(shown.output)["members"] == 1 and json.loads(shown.output)["planned"] == 1
    assert "planned" in run.invoke(cli.app, ["status", cid, *key]).output
    assert cid in run.invoke(cli.app, ["status", *key]).output
    png = tmp_path / "r.png"
    assert run.invoke(cli.app, ["report", cid, "--png", str(png), *key]).exit_code == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert run.invoke(cli.app, ["stop", cid, *key]).output.strip() == f"{cid}: stopped"
    refused = run.invoke(cli.app, ["start", cid, *key])  # a stopped campaign stays stopped
    assert refused.exit_code == 2 and "409" in refused.output
    wrong = run.invoke(cli.app, ["status", cid, "--api-key", "not-the-key"])
    assert wrong.exit_code == 2 and "401" in wrong.output


@pytest.mark.pg
def test_a_second_dialer_under_a_node_id_in_use_does_not_start(pg_url: str) -> None:
    """Two servers with `campaigns.dialer` on and one node id (say, the default host name, twice)."""
    from agent.store.errors import Conflict

    settings = Settings.model_validate({"server": {"public_url": "http://127.0.0.1:9"},
                                        "campaigns": {"dialer": True, "node_id": "host-1", "tick_ms": 50}})
    stores = [Store.open(pg_url, settings.store.phone_hash_key) for _ in range(2)]
    apps = [create_app(SimpleNamespace(settings=settings, store=s, metrics=None, engines=None))
            for s in stores]
    try:
        with TestClient(apps[0]):
            assert apps[0].state.dialer.node_id == "host-1"
            with pytest.raises(Conflict, match="'host-1' is in use"), TestClient(apps[1]):
                pass
        with TestClient(apps[1]):  # free again once the first server stopped
            pass
    finally:
        for s in stores:
            s.close()
