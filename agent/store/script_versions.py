"""Script versions under four-eyes approval: submit, approve (never by the author), read what is served.

A version is one exact text of a script file, named by its path under prompts/ and its sha256.
Submission and approval each append an audit event carrying the content hash and the identities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.store import audit_log
from agent.store.console_models import ScriptVersionRow
from agent.store.errors import NotFound, WrongState

SUBMITTED, APPROVED = "submitted", "approved"


@dataclass(frozen=True, slots=True)
class ScriptVersion:
    """One submitted text of a script and where it is in review."""

    id: int
    name: str
    use_case: str
    locale: str
    version: str
    content_hash: str
    status: str
    submitted_by: str
    submitted_at: datetime
    approved_by: str | None
    approved_at: datetime | None


def _version(r: ScriptVersionRow) -> ScriptVersion:
    return ScriptVersion(r.id, r.name, r.use_case, r.locale, r.version, r.content_hash, r.status,
                         r.submitted_by, r.submitted_at, r.approved_by, r.approved_at)


def _find(s: Session, name: str, content_hash: str) -> ScriptVersionRow | None:
    return s.execute(select(ScriptVersionRow).where(
        ScriptVersionRow.name == name, ScriptVersionRow.content_hash == content_hash)).scalar_one_or_none()


def submit(s: Session, name: str, meta: tuple[str, str, str], content: str, content_hash: str,
           by: str, now: datetime) -> ScriptVersion:
    """Submit a text for review (once per name and hash; a resubmission returns the existing version)."""
    found = _find(s, name, content_hash)
    if found is not None:
        return _version(found)
    use_case, locale, version = meta
    row = ScriptVersionRow(name=name, use_case=use_case, locale=locale, version=version,
                           content_hash=content_hash, content=content, status=SUBMITTED,
                           submitted_by=by, submitted_at=now)
    s.add(row)
    s.flush()
    audit_log.append(s, "script_submitted", {"name": name, "version": version, "content_hash": content_hash,
                                             "submitted_by": by}, now)
    return _version(row)


def approve(
    s: Session, version_id: int, by: str, now: datetime, *, bootstrap: str | None = None
) -> ScriptVersion:
    """Approve a submitted version; WrongState when `by` submitted it or it is already approved.

    `bootstrap` (the shipped manifest's name) marks the one approval not made by a person:
    a shipped script whose text matches the release's manifest (agent/dialogue/approval.py).
    """
    row = s.get(ScriptVersionRow, version_id)
    if row is None:
        raise NotFound(f"no script version {version_id}")
    if row.status == APPROVED:
        raise WrongState(f"version {version_id} of {row.name} is already approved by {row.approved_by}")
    if bootstrap is None and by == row.submitted_by:
        raise WrongState(f"{by} submitted version {version_id} of {row.name}: a different reviewer must "
                         "approve it (four-eyes)")
    row.status, row.approved_by, row.approved_at = APPROVED, by, now
    data = {"name": row.name, "version": row.version, "content_hash": row.content_hash,
            "submitted_by": row.submitted_by, "approved_by": by}
    if bootstrap is not None:
        data["bootstrap"] = bootstrap
    audit_log.append(s, "script_approved", data, now)
    return _version(row)


def is_approved(s: Session, name: str, content_hash: str) -> bool:
    """True when this exact text of this script was approved."""
    row = _find(s, name, content_hash)
    return row is not None and row.status == APPROVED


def latest_approved(s: Session, name: str) -> tuple[str, str] | None:
    """(content, hash) of the most recently approved text of a script, or None."""
    row = s.execute(select(ScriptVersionRow).where(
        ScriptVersionRow.name == name, ScriptVersionRow.status == APPROVED,
    ).order_by(ScriptVersionRow.approved_at.desc(), ScriptVersionRow.id.desc()).limit(1)).scalar_one_or_none()
    return (row.content, row.content_hash) if row is not None else None


def stamp(s: Session) -> tuple[int, str]:
    """(how many approved versions, the newest approval time): changes with every approval."""
    count, newest = s.execute(select(func.count(), func.max(ScriptVersionRow.approved_at)).where(
        ScriptVersionRow.status == APPROVED)).one()
    return int(count), str(newest)


def content_of(s: Session, version_id: int) -> str:
    """The text of a version; NotFound when there is none."""
    row = s.get(ScriptVersionRow, version_id)
    if row is None:
        raise NotFound(f"no script version {version_id}")
    return row.content


def listing(s: Session, name: str | None = None) -> list[ScriptVersion]:
    """Versions (of one script, or all), newest first."""
    query = select(ScriptVersionRow).order_by(ScriptVersionRow.id.desc())
    if name is not None:
        query = query.where(ScriptVersionRow.name == name)
    return [_version(r) for r in s.execute(query).scalars()]
