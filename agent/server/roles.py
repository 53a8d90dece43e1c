"""Who may do what: permissions, and the named roles that bundle them (REST keys, later console accounts).

Pure vocabulary, no I/O. An API key (or a console account) holds roles; a route needs one
permission. Add a permission here when a new kind of action appears, and give it to the
roles that should have it; `admin` always has every permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Permission(StrEnum):
    """One kind of action a route performs."""

    CALLS = "calls"  # register customers and consents, ask the gate, read call records, report dials
    SUPPRESSION_WRITE = "suppression-write"  # add to and import into the do-not-call list
    SUPPRESSION_REMOVE = "suppression-remove"  # take a number off the list (with a reason, audited)
    AUDIT_READ = "audit-read"  # verify the audit chain, read decrypted transcripts and slots
    ADMIN = "admin"  # keys, configuration and other operator-of-the-service actions
    SCRIPTS_SUBMIT = "scripts-submit"  # submit a script version for review
    SCRIPTS_APPROVE = "scripts-approve"  # approve a script version someone else submitted
    CAMPAIGNS = "campaigns"  # create, pace and stop outbound campaigns
    METRICS_READ = "metrics-read"  # /metrics when server.metrics_public is false
    DOCS_READ = "docs-read"  # /docs, /redoc and /openapi.json when server.docs_public is false


P = Permission
ROLES: dict[str, frozenset[Permission]] = {
    "operator": frozenset({P.CALLS, P.SUPPRESSION_WRITE, P.CAMPAIGNS, P.METRICS_READ, P.DOCS_READ}),
    "compliance": frozenset(
        {P.SUPPRESSION_WRITE, P.SUPPRESSION_REMOVE, P.AUDIT_READ, P.METRICS_READ, P.DOCS_READ}
    ),
    "author": frozenset({P.SCRIPTS_SUBMIT, P.DOCS_READ}),
    "reviewer": frozenset({P.SCRIPTS_APPROVE, P.AUDIT_READ, P.DOCS_READ}),
    "dialer": frozenset({P.CALLS}),
    "monitor": frozenset({P.METRICS_READ}),
    "admin": frozenset(Permission),
}


class UnknownRole(ValueError):
    """A role name that is not in ROLES."""


def permissions(roles: Iterable[str]) -> frozenset[Permission]:
    """Every permission the roles bundle; UnknownRole naming the first unknown one."""
    out: set[Permission] = set()
    for role in roles:
        granted = ROLES.get(role)
        if granted is None:
            raise UnknownRole(f"unknown role {role!r}; use one of {sorted(ROLES)}")
        out |= granted
    return frozenset(out)
