"""Tamper-evident audit chain (SPEC 7.5): hash = sha256(previous hash + canonical JSON of the event).

A changed event breaks its own hash; a deleted or reordered one breaks the next event's
link (and the seq run). A deleted tail is caught by comparing with the stored chain head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link of the chain; `data` is canonical JSON text so it round-trips byte for byte."""

    seq: int
    at: str  # UTC, ISO 8601 with microseconds
    call_id: str | None
    kind: str
    data: str
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_at(at: datetime) -> str:
    """The one timestamp form used in the chain (UTC, microseconds)."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(seq: int, at: str, call_id: str | None, kind: str, data: str, prev_hash: str) -> str:
    """sha256 hex of the previous hash followed by this event's canonical JSON body."""
    body = canonical_json(
        {"seq": seq, "at": at, "call_id": call_id, "kind": kind, "data": data, "prev_hash": prev_hash}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def next_event(
    prev_seq: int,
    prev_hash: str,
    kind: str,
    data: Mapping[str, Any],
    at: datetime,
    call_id: str | None = None,
) -> AuditEvent:
    """The event that follows the chain head (prev_seq 0 and GENESIS start the chain)."""
    seq = prev_seq + 1
    at_s = format_at(at)
    data_s = canonical_json(dict(data))
    return AuditEvent(
        seq, at_s, call_id, kind, data_s, prev_hash, event_hash(seq, at_s, call_id, kind, data_s, prev_hash)
    )


def verify(events: Sequence[AuditEvent], head: tuple[int, str] | None = None) -> int | None:
    """Index of the first bad event, or None when intact; `head` (last seq, hash) catches a cut tail."""
    prev_hash, expect_seq = GENESIS, 1
    for index, ev in enumerate(events):
        if ev.seq != expect_seq or ev.prev_hash != prev_hash:
            return index
        if event_hash(ev.seq, ev.at, ev.call_id, ev.kind, ev.data, ev.prev_hash) != ev.hash:
            return index
        prev_hash, expect_seq = ev.hash, ev.seq + 1
    if (
        head is not None
        and head[0] > 0
        and (not events or events[-1].seq != head[0] or events[-1].hash != head[1])
    ):
        return len(events)
    return None
