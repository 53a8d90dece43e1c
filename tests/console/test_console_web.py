"""The console over HTTP (TestClient): sign-in, cookies, CSRF, roles on every page, four-eyes, removals."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from agent.console import routers
from tests.console.conftest import PASSWORD, csrf_of, sign_in

NAME = "en-US/repayment_reminder.yaml"


def console_routes(method: str) -> list[str]:
    """Every console path answering `method` (path parameters filled in), sign-in itself left out."""
    paths = []
    for router in routers():
        for route in router.routes:
            if isinstance(route, Route) and method in (route.methods or ()) and route.path != "/login":
                paths.append("/console" + re.sub(r"\{[^}]+\}", "1", route.path))
    return paths


def test_no_page_works_without_sign_in(app: Any, client: TestClient) -> None:
    paths = console_routes("GET")
    assert {
        "/console/",
        "/console/live",
        "/console/calls",
        "/console/audit",
        "/console/suppression",
        "/console/campaigns",
        "/console/scripts",
        "/console/live/events",
    } <= set(paths)
    for path in paths:
        reply = client.get(path, params={"name": NAME}, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/console/login"), path
    posts = console_routes("POST")
    assert len(posts) >= 10
    for path in posts:
        assert client.post(path, data={}, follow_redirects=False).status_code in (303, 401), path


def test_the_session_cookie_is_httponly_strict_and_scoped(client: TestClient) -> None:
    form = client.get("/console/login")
    reply = client.post(
        "/console/login",
        data={"name": "alice", "password": PASSWORD, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in reply.headers.multi_items() if k == "set-cookie" and v.startswith("va_console=")
    )
    low = cookie.lower()
    assert "httponly" in low and "samesite=strict" in low and "path=/console" in low
    assert "secure" not in low  # plain http here; https requests get Secure
    assert PASSWORD not in cookie
    assert "frame-ancestors 'none'" in client.get("/console/").headers["content-security-policy"]


def test_wrong_password_forged_cookie_and_missing_login_token_are_refused(client: TestClient) -> None:
    form = client.get("/console/login")
    token = csrf_of(form.text)
    bad = client.post(
        "/console/login",
        data={"name": "alice", "password": "nope-nope-nope", "csrf": token},
        follow_redirects=False,
    )
    assert "wrong+name+or+password" in bad.headers["location"]
    no_token = client.post(
        "/console/login", data={"name": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert "expired" in no_token.headers["location"]
    client.cookies.set("va_console", "eyJ1IjoiYWxpY2UifQ.forged", path="/console")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient) -> None:
    sign_in(client, "cora")
    reply = client.post("/console/suppression/add", data={"phone": "+12025550143", "scope": "all"})
    assert reply.status_code == 403 and "security token" in reply.text
    assert "+1******0143" not in client.get("/console/suppression").text
    fetch = client.post("/console/scripts/lint", json={"name": NAME, "text": ""})
    assert fetch.status_code in (403,)


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        (
            "olga",
            ["/console/live", "/console/calls", "/console/campaigns", "/console/suppression"],
            ["/console/audit", "/console/scripts"],
        ),
        (
            "cora",
            ["/console/audit", "/console/calls", "/console/suppression"],
            ["/console/live", "/console/scripts", "/console/campaigns"],
        ),
        (
            "alice",
            ["/console/scripts"],
            ["/console/audit", "/console/live", "/console/suppression", "/console/calls"],
        ),
    ],
)
def test_each_page_checks_its_role(
    client: TestClient, who: str, allowed: list[str], refused: list[str]
) -> None:
    sign_in(client, who)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        reply = client.get(path)
        assert reply.status_code == 403 and "do not include" in reply.text, path


def test_an_author_cannot_approve_their_own_script_and_a_second_reviewer_can(
    client: TestClient, fake_runtime: Any
) -> None:
    text = (fake_runtime.settings.dialogue.prompts_dir / NAME).read_text(encoding="utf-8")
    edited = text.replace("Goodbye.", "Goodbye for now.", 1)
    token = sign_in(client, "carol")  # author and reviewer
    client.post("/console/scripts/submit", data={"csrf": token, "name": NAME, "text": edited})
    page = client.get("/console/scripts").text
    version = int(re.findall(r'id="version-(\d+)"', page)[0])
    refused = client.post(f"/console/scripts/approve/{version}", data={"csrf": token})
    assert "different reviewer" in refused.text
    assert "Goodbye for now" not in str(fake_runtime.scripts[("repayment_reminder", "en-US")].model_dump())
    client.post("/console/logout", data={"csrf": token})
    token = sign_in(client, "bob")
    approved = client.post(f"/console/scripts/approve/{version}", data={"csrf": token})
    assert "approved by bob" in approved.text
    assert "Goodbye for now" in str(fake_runtime.scripts[("repayment_reminder", "en-US")].model_dump())
    events = [e for e in fake_runtime.store.audit_events() if e.kind == "script_approved" and "bob" in e.data]
    assert events and '"submitted_by":"carol"' in events[-1].data.replace(" ", "")


def test_a_suppression_removal_needs_a_second_person(client: TestClient, fake_runtime: Any) -> None:
    token = sign_in(client, "cora")
    client.post("/console/suppression/add", data={"csrf": token, "phone": "+12025550143", "scope": "all"})
    assert fake_runtime.store.is_suppressed("+12025550143")
    short = client.post(
        "/console/suppression/remove", data={"csrf": token, "phone": "+12025550143", "reason": "x"}
    )
    assert "at least 3" in short.text
    client.post(
        "/console/suppression/remove",
        data={"csrf": token, "phone": "+12025550143", "reason": "re-consented in writing"},
    )
    request_id = int(
        re.findall(r"/console/suppression/decide/(\d+)", client.get("/console/suppression").text)[0]
    )
    own = client.post(
        f"/console/suppression/decide/{request_id}", data={"csrf": token, "decision": "approve"}
    )
    assert "second person" in own.text and fake_runtime.store.is_suppressed("+12025550143")
    client.post("/console/logout", data={"csrf": token})
    token = sign_in(client, "dora")
    done = client.post(
        f"/console/suppression/decide/{request_id}", data={"csrf": token, "decision": "approve"}
    )
    assert "1 entries removed" in done.text and not fake_runtime.store.is_suppressed("+12025550143")
    removed = [e for e in fake_runtime.store.audit_events() if e.kind == "suppression_removed"][-1]
    assert "cora" in removed.data and "dora" in removed.data and "re-consented" in removed.data


def test_the_audit_page_verifies_and_names_the_first_broken_link(
    client: TestClient, fake_runtime: Any
) -> None:
    token = sign_in(client, "cora")
    client.post("/console/suppression/add", data={"csrf": token, "phone": "+12025550144", "scope": "all"})
    assert "Intact" in client.get("/console/audit", params={"verify": 1}).text
    from sqlalchemy import update

    from agent.store.models import AuditEventRow

    with fake_runtime.store._tx() as s:
        s.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(data='{"tampered":true}'))
    page = client.get("/console/audit", params={"verify": 1}).text
    assert "BROKEN" in page and "first broken link" in page and "seq 2" in page


def test_workbench_lint_names_rule_and_line(client: TestClient) -> None:
    token = sign_in(client, "alice")
    text = "meta:\n  id: x\n  use_case: y\n"
    reply = client.post(
        "/console/scripts/lint", json={"name": NAME, "text": text}, headers={"X-CSRF-Token": token}
    )
    findings = reply.json()["findings"]
    assert findings and all("rule" in f and "line" in f for f in findings)
    assert any(f["line"] for f in findings)


def test_a_disabled_account_is_out_at_its_next_request(client: TestClient, fake_runtime: Any) -> None:
    from datetime import UTC, datetime

    from agent.store.console_store import ConsoleStore

    sign_in(client, "olga")
    assert client.get("/console/live").status_code == 200
    ConsoleStore(fake_runtime.store).update_account("olga", "test", datetime.now(UTC), disabled=True)
    assert client.get("/console/live", follow_redirects=False).status_code == 303


def test_an_operator_ends_a_live_call_and_it_is_audited(client: TestClient, fake_runtime: Any) -> None:
    ended: list[str] = []
    fake_runtime.live.open("c9", {"script": "s"}, lambda: ended.append("c9"))
    token = sign_in(client, "olga")
    assert "c9" in client.get("/console/live").text
    reply = client.post("/console/live/c9/end", data={"csrf": token})
    assert "is being ended" in reply.text and ended == ["c9"]
    kinds = [(e.kind, e.call_id) for e in fake_runtime.store.audit_events()]
    assert ("call_ended_by_operator", "c9") in kinds
    assert "not active" in client.post("/console/live/zz/end", data={"csrf": token}).text
