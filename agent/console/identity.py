"""Who is signed in: check a name and password against the console accounts; their permissions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.console.passwords import check_password, hash_password
from agent.server.roles import Permission, permissions
from agent.store.console_store import ConsoleStore

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_DUMMY = hash_password("not a password of anyone", salt=b"\0" * 16)  # same work for an unknown name


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in console user."""

    name: str
    roles: tuple[str, ...]
    permissions: frozenset[Permission]

    def may(self, permission: Permission) -> bool:
        """True when one of the user's roles grants the permission."""
        return permission in self.permissions


def check_name(name: str) -> str | None:
    """Why an account name is refused, or None (lower-case letters, digits, . _ -; 2 to 64)."""
    return None if NAME.match(name) else "an account name is 2-64 lower-case letters, digits, '.', '_' or '-'"


def sign_in(cs: ConsoleStore, name: str, password: str) -> User | None:
    """The user when the name and password match an enabled account, else None (blocking: scrypt)."""
    account = cs.account(name) if NAME.match(name) else None
    ok = check_password(password, account.password_hash if account else _DUMMY)
    if account is None or not ok or account.disabled:
        return None
    return User(account.name, account.roles, permissions(account.roles))


def current(cs: ConsoleStore, name: str) -> User | None:
    """The user behind a session's name, re-read each request (a disabled account is out at once)."""
    account = cs.account(name)
    if account is None or account.disabled:
        return None
    return User(account.name, account.roles, permissions(account.roles))
