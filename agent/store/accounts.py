"""Console accounts: add, read, list, change password, disable (audited; passwords only as hashes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store import audit_log
from agent.store.console_models import ConsoleUserRow
from agent.store.errors import Conflict, NotFound


@dataclass(frozen=True, slots=True)
class Account:
    """A console account as stored (the hash, never a password)."""

    name: str
    roles: tuple[str, ...]
    password_hash: str
    disabled: bool
    created_at: datetime


def _account(row: ConsoleUserRow) -> Account:
    return Account(row.name, tuple(json.loads(row.roles)), row.password_hash, row.disabled, row.created_at)


def add(s: Session, name: str, roles: list[str], password_hash: str, by: str, now: datetime) -> None:
    """Create an account; Conflict when the name is taken."""
    if s.get(ConsoleUserRow, name) is not None:
        raise Conflict(f"a console account named {name!r} exists")
    s.add(ConsoleUserRow(name=name, roles=json.dumps(sorted(roles)), password_hash=password_hash,
                         disabled=False, created_at=now))
    audit_log.append(s, "console_user_added", {"name": name, "roles": sorted(roles), "by": by}, now)


def get(s: Session, name: str) -> Account | None:
    """The account, or None."""
    row = s.get(ConsoleUserRow, name)
    return _account(row) if row is not None else None


def all_accounts(s: Session) -> list[Account]:
    """Every account, by name."""
    return [_account(r) for r in s.execute(select(ConsoleUserRow).order_by(ConsoleUserRow.name)).scalars()]


def update(s: Session, name: str, by: str, now: datetime, *, password_hash: str | None = None,
           roles: list[str] | None = None, disabled: bool | None = None) -> None:
    """Change an account's password, roles or disabled flag (audited, the hash left out)."""
    row = s.get(ConsoleUserRow, name)
    if row is None:
        raise NotFound(f"no console account named {name!r}")
    changed: dict[str, object] = {"name": name, "by": by}
    if password_hash is not None:
        row.password_hash = password_hash
        changed["password"] = "changed"
    if roles is not None:
        row.roles = json.dumps(sorted(roles))
        changed["roles"] = sorted(roles)
    if disabled is not None:
        row.disabled = disabled
        changed["disabled"] = disabled
    audit_log.append(s, "console_user_changed", changed, now)
