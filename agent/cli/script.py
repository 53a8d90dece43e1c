"""`voice-agent script submit|approve|list`: four-eyes publishing of scripts (SPEC 13).

A script text is served only after a second person approved it. `submit` records a file's
current text as a version for review under your account; `approve` approves a version as
another account with the reviewer role (never its author). Each asks the account's password
(or reads VOICE_AGENT_CONSOLE_PASSWORD). Both go into the audit chain with the content hash.
Example: voice-agent script submit prompts/en-US/repayment_reminder.yaml --as alice
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import typer

from agent.cli._store import CONFIG_OPTION, open_store, use_config
from agent.cli.common import settings
from agent.console import publishing
from agent.console.identity import User, sign_in
from agent.server.roles import Permission
from agent.store import StoreError
from agent.store.console_store import ConsoleStore

app = typer.Typer(help="Script versions: submit for review, approve, list.", no_args_is_help=True)
_config: list[Path | None] = [None]
AS = typer.Option(..., "--as", help="Your console account (voice-agent console add-user).")


@app.callback()
def _main(config: Path | None = CONFIG_OPTION) -> None:
    """Script publishing commands, on the store and prompts/ the server's configuration names."""
    use_config(config)
    _config[0] = config


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _who(cs: ConsoleStore, name: str, needs: Permission) -> User:
    password = os.environ.get("VOICE_AGENT_CONSOLE_PASSWORD") or typer.prompt(
        f"password of {name}", hide_input=True)
    user = sign_in(cs, name, password)
    if user is None:
        raise _fail(f"wrong name or password for {name}")
    if not user.may(needs):
        raise _fail(f"{name} lacks the {needs.value} permission (roles: {', '.join(user.roles)})")
    return user


@app.command()
def submit(file: str, as_: str = AS) -> None:
    """Submit a script file's current text for review (file path, or its name under prompts/)."""
    prompts = Path(settings(_config[0]).dialogue.prompts_dir)
    store = open_store()
    try:
        cs = ConsoleStore(store)
        user = _who(cs, as_, Permission.SCRIPTS_SUBMIT)
        name, path = publishing.resolve(prompts, file)
        version = publishing.submit(cs, prompts, name, path.read_text(encoding="utf-8"), user.name,
                                    datetime.now(UTC))
    except (StoreError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()
    typer.echo(f"version {version.id} of {name} ({version.content_hash[:12]}) is {version.status}"
               f"; a reviewer other than {version.submitted_by} approves it with: "
               f"voice-agent script approve {version.id} --as NAME")


@app.command()
def approve(version_id: int, as_: str = AS) -> None:
    """Approve a submitted version as a reviewer who is not its author."""
    store = open_store()
    try:
        cs = ConsoleStore(store)
        user = _who(cs, as_, Permission.SCRIPTS_APPROVE)
        version = publishing.approve(cs, version_id, user.name, datetime.now(UTC))
    except (StoreError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()
    typer.echo(f"version {version.id} of {version.name} ({version.content_hash[:12]}) approved by "
               f"{version.approved_by}; the server serves it from its next reload")


@app.command("list")
def list_versions(name: str | None = typer.Argument(None, help="Only this script (its name).")) -> None:
    """Every script version: id, name, status, hash, author and approver."""
    store = open_store()
    try:
        for v in ConsoleStore(store).script_versions(name):
            approved = f" approved by {v.approved_by}" if v.approved_by else ""
            typer.echo(f"{v.id}\t{v.name}\t{v.version}\t{v.status}\t{v.content_hash[:12]}\t"
                       f"by {v.submitted_by}{approved}")
    finally:
        store.close()
