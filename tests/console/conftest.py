"""A served app on fake engines with console accounts of every role, and a way to sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.console.passwords import hash_password
from agent.server.app import create_app
from agent.store.console_store import ConsoleStore

PASSWORD = "console-test-password"
ACCOUNTS = {
    "alice": ["author"],
    "bob": ["reviewer"],
    "carol": ["author", "reviewer"],
    "olga": ["operator"],
    "cora": ["compliance"],
    "dora": ["compliance"],
}


def add_accounts(store: Any) -> None:
    """Every account of ACCOUNTS with PASSWORD (those already there are kept)."""
    cs = ConsoleStore(store)
    digest = hash_password(PASSWORD)
    for name, roles in ACCOUNTS.items():
        if cs.account(name) is None:
            cs.add_account(name, roles, digest, "test", datetime.now(UTC))


@pytest.fixture
def app(fake_runtime: Any) -> Any:
    fake_runtime.settings.server.console_secret_file = None
    add_accounts(fake_runtime.store)
    return create_app(fake_runtime)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'data-csrf="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = client.get("/console/login")
    reply = client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf": csrf_of(form.text), "next": "/console/"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/console/", reply.headers
    return csrf_of(client.get("/console/").text)
