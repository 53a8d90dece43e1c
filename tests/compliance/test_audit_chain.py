"""Audit hash chain: change, deletion and reordering are each caught (SPEC 7.5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agent.compliance.audit import GENESIS, AuditEvent, next_event, verify

T = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def chain(n: int = 5) -> list[AuditEvent]:
    out: list[AuditEvent] = []
    seq, h = 0, GENESIS
    for i in range(n):
        ev = next_event(seq, h, "k", {"i": i, "text": "x"}, T + timedelta(seconds=i), f"c{i}")
        out.append(ev)
        seq, h = ev.seq, ev.hash
    return out


def test_intact() -> None:
    events = chain()
    assert verify(events) is None
    assert verify(events, (events[-1].seq, events[-1].hash)) is None
    assert verify([]) is None and verify([], (0, GENESIS)) is None


def test_change_caught() -> None:
    events = chain()
    events[2] = replace(events[2], data='{"i":99,"text":"x"}')
    assert verify(events) == 2
    events = chain()
    events[1] = replace(events[1], kind="other")
    assert verify(events) == 1


def test_change_with_rehash_breaks_next_link() -> None:
    events = chain()
    forged = next_event(events[1].seq, events[1].hash, "k", {"i": 99}, T, "c2")
    events[2] = forged
    assert verify(events) == 3


def test_delete_caught() -> None:
    events = chain()
    del events[2]
    assert verify(events) == 2
    events = chain()
    assert verify(events[1:]) == 0


def test_delete_tail_caught_by_head() -> None:
    events = chain()
    assert verify(events[:-1], (events[-1].seq, events[-1].hash)) == 4


def test_reorder_caught() -> None:
    events = chain()
    events[1], events[3] = events[3], events[1]
    assert verify(events) == 1


def test_canonical_hash_stable() -> None:
    a = next_event(0, GENESIS, "k", {"b": 1, "a": "中文"}, T)
    b = next_event(0, GENESIS, "k", {"a": "中文", "b": 1}, T)
    assert a.hash == b.hash and len(a.hash) == 64
