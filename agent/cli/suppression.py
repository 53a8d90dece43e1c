"""`voice-agent suppression add|remove|check|import`: manage the do-not-call list."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer

from agent.cli._store import CONFIG_OPTION, open_store, use_config
from agent.compliance.phone import InvalidPhone
from agent.store import StoreUnavailable

app = typer.Typer(help="Suppression (do-not-call) list.", no_args_is_help=True)


@app.callback()
def _main(config: Path | None = CONFIG_OPTION) -> None:
    """Suppression list commands, on the store the server's configuration names."""
    use_config(config)


class Scope(StrEnum):
    """Which calls a suppression entry stops."""

    all = "all"
    marketing = "marketing"


class Purpose(StrEnum):
    """The purpose to check a number against."""

    servicing = "servicing"
    marketing = "marketing"


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@app.command()
def add(phone: str, scope: Scope = Scope.all, source: str = "cli") -> None:
    """Suppress a number. Example: voice-agent suppression add +12025550143 --scope all"""
    store = open_store()
    try:
        masked = store.suppress(phone, scope.value, source, datetime.now(UTC))
    except (StoreUnavailable, InvalidPhone, ValueError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    typer.echo(f"suppressed {masked} ({scope.value})")


@app.command()
def remove(
    phone: str,
    reason: str = typer.Option(..., help="Why the number may be called again (kept in the audit trail)."),
    scope: Scope | None = None,
) -> None:
    """Remove a number's suppression entries (one scope, or all), with a reason.

    Example: voice-agent suppression remove +12025550143 --reason "re-consented in writing"
    """
    if len(reason.strip()) < 3:
        raise _fail(ValueError("give a --reason of at least 3 characters"))
    store = open_store()
    try:
        count = store.unsuppress(
            phone, datetime.now(UTC), scope.value if scope else None, "cli", reason=reason
        )
    except (StoreUnavailable, InvalidPhone, ValueError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    typer.echo(f"removed {count} entr{'y' if count == 1 else 'ies'}")


@app.command()
def check(phone: str, purpose: Purpose = Purpose.servicing) -> None:
    """Exit 0 and say 'suppressed' when a call for the purpose would be refused; exit 1 otherwise.

    Example: voice-agent suppression check +12025550143 --purpose marketing
    """
    store = open_store()
    try:
        suppressed = store.is_suppressed(phone, purpose.value)
        masked = store.masked(phone)
    except (StoreUnavailable, InvalidPhone, ValueError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    typer.echo(f"{masked}: {'suppressed' if suppressed else 'not suppressed'} for {purpose.value}")
    if not suppressed:
        raise typer.Exit(1)


@app.command("import")
def import_csv(path: Path) -> None:
    """Import a CSV of `phone[,scope[,source]]` rows (header optional), all or nothing.

    Example: voice-agent suppression import dnc.csv
    """
    store = open_store()
    try:
        count = store.import_suppression_csv(
            path.read_text(encoding="utf-8-sig"), datetime.now(UTC), source=f"csv:{path.name}"
        )
    except UnicodeDecodeError as exc:
        raise _fail(ValueError(f"{path} is not UTF-8 (byte {exc.start}); save it as UTF-8")) from exc
    except (StoreUnavailable, OSError, ValueError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    typer.echo(f"imported {count} entries")
