"""Store fixtures: every store test runs on a SQLite file and on PostgreSQL (`pg`) in its own schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing_prerequisite

PG_BASE = os.environ.get("VOICE_AGENT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg: needs the PostgreSQL server on 127.0.0.1:5432")


def _pg_admin() -> object:
    from sqlalchemy import create_engine

    return create_engine(PG_BASE, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    schema = f"va_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OperationalError, ImportError) as exc:  # pragma: no cover - no server here
        missing_prerequisite(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a folder that does not exist yet (the store must create it)."""
    return f"sqlite:///{tmp_path / 'nested' / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty store, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    """An open Store on the backend under test."""
    from agent.store import Store

    st = Store.open(store_url, "test-key")
    yield st
    st.close()
