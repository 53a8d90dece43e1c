"""Signed audit checkpoints (pure): signing, parsing, tampering, and agreement with a chain."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from agent.compliance import audit, checkpoint
from agent.compliance.checkpoint import CheckpointError

NOW = datetime(2026, 12, 1, 14, 40, tzinfo=UTC)
KEY = checkpoint.generate_key()


def _chain(n: int, note: str = "ok") -> list[audit.AuditEvent]:
    events: list[audit.AuditEvent] = []
    seq, prev = 0, audit.GENESIS
    for i in range(n):
        ev = audit.next_event(seq, prev, "test", {"i": i, "note": note}, NOW + timedelta(seconds=i))
        events.append(ev)
        seq, prev = ev.seq, ev.hash
    return events


def test_round_trip_and_signature() -> None:
    events = _chain(5)
    cp = checkpoint.sign(KEY, 5, events[-1].hash, NOW, "node-a")
    back = checkpoint.from_json(cp.to_json())
    assert back == cp
    checkpoint.verify_signature(back, KEY.public_key())
    checkpoint.verify_signature(back)  # against the key it names
    assert checkpoint.check_chain(back, events) is None
    assert checkpoint.check_chain(back, _chain(9)) is None  # the chain grew: fine


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 4), ("head_hash", "f" * 64), ("at", "2027-01-01T00:00:00.000000Z"), ("node_id", "node-b")],
)
def test_any_changed_field_breaks_the_signature(field: str, value: object) -> None:
    cp = checkpoint.sign(KEY, 5, "a" * 64, NOW, "node-a")
    forged = dataclasses.replace(cp, **{field: value})
    with pytest.raises(CheckpointError, match="signature"):
        checkpoint.verify_signature(forged, KEY.public_key())


def test_a_checkpoint_re_signed_with_another_key_is_refused() -> None:
    other = checkpoint.generate_key()
    cp = checkpoint.sign(other, 5, "a" * 64, NOW, "node-a")
    checkpoint.verify_signature(cp)  # consistent in itself...
    with pytest.raises(CheckpointError, match="different key"):
        checkpoint.verify_signature(cp, KEY.public_key())  # ...but not by the lender's key


def test_rewritten_or_cut_chain_disagrees() -> None:
    events = _chain(6)
    cp = checkpoint.sign(KEY, 6, events[-1].hash, NOW, "node-a")
    rewritten = _chain(6, note="forged")  # consistent in itself: verify() passes
    assert audit.verify(rewritten, (6, rewritten[-1].hash)) is None
    assert "rewritten" in (checkpoint.check_chain(cp, rewritten) or "")
    assert "removed" in (checkpoint.check_chain(cp, events[:4]) or "")


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", json.dumps({"format": "other"}), json.dumps({"format": checkpoint.FORMAT, "seq": 1})],
)
def test_malformed_files_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(CheckpointError):
        checkpoint.from_json(text)


def test_keys_round_trip_and_bad_keys_are_refused() -> None:
    pem = checkpoint.private_key_pem(KEY)
    assert checkpoint.public_key_text(checkpoint.load_private_key(pem)) == checkpoint.public_key_text(KEY)
    pub = checkpoint.public_key_text(KEY)
    assert checkpoint.public_key_text(checkpoint.parse_public_key(pub)) == pub
    for bad in ("", "abc", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----"):
        with pytest.raises(CheckpointError):
            checkpoint.parse_public_key(bad)
    with pytest.raises(CheckpointError):
        checkpoint.load_private_key(b"not a key")
