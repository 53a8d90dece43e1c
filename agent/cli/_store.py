"""Open the store for a CLI command with the server's configuration, or refuse in one sentence.

The same settings as `voice-agent serve` (config.yaml or --config, then VOICE_AGENT_* env).
A store written with other keys is refused (it would hash numbers differently and answer
"not suppressed" for a suppressed number), and so is one whose keys were never recorded.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.common import settings
from agent.store import KeyMismatch, Store, StoreUnavailable

_config: list[Path | None] = [None]

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="The server's config.yaml (default: VOICE_AGENT_CONFIG or ./config.yaml)."
)


def use_config(path: Path | None) -> None:
    """Remember a group's --config for open_store."""
    _config[0] = path


def open_store() -> Store:
    """The configured store; exits 2 with one sentence when it cannot be opened or the keys are wrong."""
    cfg = settings(_config[0])
    if not cfg.store.phone_hash_key:
        typer.echo(
            "error: store.phone_hash_key is not set; set the server's (VOICE_AGENT_STORE__PHONE_HASH_KEY)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        return Store.from_settings(cfg, adopt_keys=False)
    except KeyMismatch as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}; check store.url (or VOICE_AGENT_STORE__URL)", err=True)
        raise typer.Exit(2) from exc
