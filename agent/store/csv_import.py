"""Suppression CSV import: `phone[,scope[,source]]` rows, header optional, all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from agent.compliance.phone import InvalidPhone
from agent.store import audit_log, suppression
from agent.store.context import StoreContext

Entry = tuple[str, str, str, str]  # phone_hash, masked, scope, source
HEADER_NAMES = frozenset({"phone", "number", "phone_number"})
MAX_PHONE, MAX_CELL = 32, 128  # as the REST fields: a phone number, a scope or a source


def parse(text_csv: str, ctx: StoreContext, source: str) -> list[Entry]:
    """Every row as an entry; ValueError naming the line of the first bad row."""
    entries: list[Entry] = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text_csv)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and cells[0].lower() in HEADER_NAMES:
            continue
        if len(cells[0]) > MAX_PHONE or any(len(c) > MAX_CELL for c in cells[1:]) or "\x00" in "".join(cells):
            limits = f"phone {MAX_PHONE}, others {MAX_CELL} characters"
            raise ValueError(f"line {lineno}: a cell is too long ({limits}) or holds a NUL")
        scope = cells[1] if len(cells) > 1 and cells[1] else "all"
        if scope not in suppression.SCOPES:
            raise ValueError(f"line {lineno}: scope {scope!r} is not one of {suppression.SCOPES}")
        try:
            phone_hash, masked = ctx.phone(cells[0])
        except InvalidPhone as exc:
            raise ValueError(f"line {lineno}: {exc}") from exc
        entries.append((phone_hash, masked, scope, cells[2] if len(cells) > 2 and cells[2] else source))
    return entries


def store(s: Session, entries: list[Entry], now: datetime, source: str) -> int:
    """Insert the parsed entries with one audit event; returns how many."""
    suppression.add_rows(s, entries, now)
    audit_log.append(s, "suppression_imported", {"count": len(entries), "source": source}, now)
    return len(entries)
