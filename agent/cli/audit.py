"""`voice-agent audit verify`: exit 0 when the audit chain is intact, 1 naming the first bad event."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli._store import CONFIG_OPTION, open_store, use_config
from agent.store import StoreUnavailable

app = typer.Typer(help="Audit trail: verify the tamper-evident hash chain.", no_args_is_help=True)


@app.callback()
def _main(config: Path | None = CONFIG_OPTION) -> None:
    """Audit trail commands, on the store the server's configuration names."""
    use_config(config)


@app.command()
def verify() -> None:
    """Verify every audit event's hash and link; exit 1 naming the first bad event.

    Example: VOICE_AGENT_STORE__URL=sqlite:///out/demo-store.db voice-agent audit verify
    """
    store = open_store()
    try:
        ok, seq, detail = store.verify_audit()
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    if ok:
        typer.echo(f"audit chain intact: {detail}")
        return
    typer.echo(f"audit chain BROKEN at event seq {seq}: {detail}", err=True)
    raise typer.Exit(1)
