"""Alembic migrations of the store, run programmatically by agent.store.engine.migrate."""
