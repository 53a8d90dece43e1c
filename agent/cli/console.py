"""`voice-agent console add-user|list-users|disable|password`: the browser console's named accounts.

Each account has roles (operator, compliance, author, reviewer, admin; agent/server/roles.py)
and a password kept only as a scrypt hash. The password is asked for (hidden, twice), or read
from VOICE_AGENT_CONSOLE_PASSWORD for automation.
Example: voice-agent console add-user alice --role author
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import typer

from agent.cli._store import CONFIG_OPTION, open_store, use_config
from agent.console.identity import check_name
from agent.console.passwords import hash_password, weak
from agent.server.roles import ROLES
from agent.store import StoreError
from agent.store.console_store import ConsoleStore

app = typer.Typer(help="Console accounts (sign-in for /console).", no_args_is_help=True)
PASSWORD_ENV = "VOICE_AGENT_CONSOLE_PASSWORD"


@app.callback()
def _main(config: Path | None = CONFIG_OPTION) -> None:
    """Console account commands, on the store the server's configuration names."""
    use_config(config)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def new_password() -> str:
    """The new password: from VOICE_AGENT_CONSOLE_PASSWORD, else asked twice; refused when weak."""
    password = os.environ.get(PASSWORD_ENV) or typer.prompt("password", hide_input=True,
                                                            confirmation_prompt=True)
    problem = weak(password)
    if problem:
        raise _fail(problem)
    return password


@app.command("add-user")
def add_user(
    name: str,
    role: list[str] = typer.Option(..., "--role", "-r", help=f"A role (repeatable): {', '.join(ROLES)}."),
) -> None:
    """Create a console account with one or more roles."""
    problem = check_name(name) or next((f"unknown role {r!r}; use {', '.join(ROLES)}" for r in role
                                        if r not in ROLES), None)
    if problem:
        raise _fail(problem)
    password = new_password()
    store = open_store()
    try:
        ConsoleStore(store).add_account(name, role, hash_password(password), "cli", datetime.now(UTC))
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()
    typer.echo(f"console account {name} ({', '.join(sorted(role))}) created")


@app.command("list-users")
def list_users() -> None:
    """Every console account with its roles."""
    store = open_store()
    try:
        for acc in ConsoleStore(store).accounts():
            state = " (disabled)" if acc.disabled else ""
            typer.echo(f"{acc.name}\t{','.join(acc.roles)}{state}")
    finally:
        store.close()


def _update(name: str, **changes: object) -> None:
    store = open_store()
    try:
        ConsoleStore(store).update_account(name, "cli", datetime.now(UTC), **changes)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()


@app.command()
def password(name: str) -> None:
    """Set a new password for an account."""
    _update(name, password_hash=hash_password(new_password()))
    typer.echo(f"password of {name} changed")


@app.command()
def disable(name: str, enable: bool = typer.Option(False, "--enable", help="Enable it again.")) -> None:
    """Disable an account (its sessions stop at their next request), or --enable it."""
    _update(name, disabled=not enable)
    typer.echo(f"{name} {'enabled' if enable else 'disabled'}")
