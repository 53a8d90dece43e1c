"""Console accounts for `voice-agent demo --console`: one per role, sharing a fresh random password.

Only for the demo's own throw-away store (out/demo-store.db); a real deployment makes named
accounts with `voice-agent console add-user`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from agent.console.passwords import hash_password
from agent.store.console_store import ConsoleStore

DEMO_ACCOUNTS = {
    "officer": ["compliance"],
    "operator": ["operator"],
    "author": ["author"],
    "reviewer": ["reviewer"],
    "admin": ["admin"],
}


def make_demo_accounts(store: Any) -> str:
    """Create (or reset) the demo accounts; returns their shared password."""
    password = secrets.token_urlsafe(9)
    cs, digest, now = ConsoleStore(store), hash_password(password), datetime.now(UTC)
    for name, roles in DEMO_ACCOUNTS.items():
        if cs.account(name) is None:
            cs.add_account(name, roles, digest, "demo", now)
        else:
            cs.update_account(name, "demo", now, password_hash=digest)
    return password
