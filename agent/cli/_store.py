"""Open the configured store for a CLI command, with a one-sentence error when it cannot be opened."""

from __future__ import annotations

import typer

from agent.compliance.callback import OfficialNumbers
from agent.config import load_settings
from agent.store import Store, StoreUnavailable


def open_store() -> Store:
    """Store from config (store.url, VOICE_AGENT_STORE__URL); exits 2 when it cannot be opened."""
    settings = load_settings()
    try:
        return Store.open(
            settings.store.url,
            settings.store.phone_hash_key,
            default_jurisdiction=settings.compliance.jurisdiction,
            token_ttl_s=settings.compliance.token_ttl_s,
            max_attempts_per_day=settings.compliance.max_attempts_per_day,
            official_numbers=OfficialNumbers.parse(settings.compliance.official_numbers),
        )
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}; check store.url (or VOICE_AGENT_STORE__URL)", err=True)
        raise typer.Exit(2) from exc
