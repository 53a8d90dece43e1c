"""Campaign fixtures: the store tests' SQLite and PostgreSQL URLs, and a campaign spec."""

from __future__ import annotations

from tests.store.conftest import pg_url, sqlite_url, store_url  # noqa: F401 - fixtures
