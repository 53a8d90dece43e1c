"""Server fixtures: the store fixtures (a SQLite file, a PostgreSQL schema) shared with tests/store."""

from tests.store.conftest import pg_url, sqlite_url, store_url  # noqa: F401  (pytest fixtures)
