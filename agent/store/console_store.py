"""The console's side of the store: accounts, script versions, two-person removals, listings.

Blocking like `Store` (call from a worker thread); each method is one transaction on the
same engine, so the audit events it appends join the one chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from agent.store import accounts, audit_log, browse, removals, script_versions
from agent.store.accounts import Account
from agent.store.browse import CallFilter, CallSummary, SuppressionEntry
from agent.store.removals import Removal
from agent.store.script_versions import ScriptVersion

if TYPE_CHECKING:
    from agent.compliance.audit import AuditEvent
    from agent.store.store import Store

__all__ = ["Account", "CallFilter", "CallSummary", "ConsoleStore", "Removal", "ScriptVersion",
           "SuppressionEntry"]


class ConsoleStore:
    """Console tables over an open `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accounts
    def add_account(self, name: str, roles: list[str], password_hash: str, by: str, now: datetime) -> None:
        with self.store._tx() as s:
            accounts.add(s, name, roles, password_hash, by, now)

    def account(self, name: str) -> Account | None:
        with self.store._tx() as s:
            return accounts.get(s, name)

    def accounts(self) -> list[Account]:
        with self.store._tx() as s:
            return accounts.all_accounts(s)

    def update_account(self, name: str, by: str, now: datetime, **changes: object) -> None:
        with self.store._tx() as s:
            accounts.update(s, name, by, now, **changes)  # type: ignore[arg-type]

    # -- script versions
    def submit_script(self, name: str, meta: tuple[str, str, str], content: str, content_hash: str,
                      by: str, now: datetime) -> ScriptVersion:
        with self.store._tx() as s:
            return script_versions.submit(s, name, meta, content, content_hash, by, now)

    def approve_script(self, version_id: int, by: str, now: datetime,
                       bootstrap: str | None = None) -> ScriptVersion:
        with self.store._tx() as s:
            return script_versions.approve(s, version_id, by, now, bootstrap=bootstrap)

    def script_approved(self, name: str, content_hash: str) -> bool:
        with self.store._tx() as s:
            return script_versions.is_approved(s, name, content_hash)

    def latest_approved(self, name: str) -> tuple[str, str] | None:
        with self.store._tx() as s:
            return script_versions.latest_approved(s, name)

    def approvals_stamp(self) -> tuple[int, str]:
        with self.store._tx() as s:
            return script_versions.stamp(s)

    def script_versions(self, name: str | None = None) -> list[ScriptVersion]:
        with self.store._tx() as s:
            return script_versions.listing(s, name)

    def script_content(self, version_id: int) -> str:
        with self.store._tx() as s:
            return script_versions.content_of(s, version_id)

    # -- suppression removals (two people)
    def request_removal(self, phone: str, scope: str | None, reason: str, by: str, now: datetime) -> Removal:
        pair = self.store._ctx.phone(phone)
        with self.store._tx() as s:
            return removals.request(s, pair, scope, reason, by, now)

    def decide_removal(self, request_id: int, by: str, approve: bool, now: datetime) -> int:
        with self.store._tx() as s:
            return removals.decide(s, request_id, by, approve, now)

    def pending_removals(self) -> list[Removal]:
        with self.store._tx() as s:
            return removals.pending(s)

    # -- listings
    def calls(self, f: CallFilter) -> list[CallSummary]:
        with self.store._tx() as s:
            return browse.calls(s, f)

    def outcomes(self) -> list[str]:
        with self.store._tx() as s:
            return browse.outcomes(s)

    def suppressions(self, phone: str = "") -> list[SuppressionEntry]:
        with self.store._tx() as s:
            return browse.suppressions(s, phone)

    def call_events(self, call_id: str) -> list[AuditEvent]:
        """The audit events of one call, in chain order."""
        return [e for e in self.store.audit_events() if e.call_id == call_id]

    def audit_page(self, before: int | None, size: int = 100) -> list[AuditEvent]:
        """`size` events with seq below `before` (or the newest), newest first."""
        with self.store._tx() as s:
            evs = audit_log.events(s)
        if before is not None:
            evs = [e for e in evs if e.seq < before]
        return list(reversed(evs[-size:]))
