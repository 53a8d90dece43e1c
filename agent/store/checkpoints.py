"""Audit checkpoints in the store: the table and the functions that read and write it in a session.

Writing reads the chain head under its lock (so the signed head is one that appends agree on),
signs it with the caller's signer and stores the result in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from agent.compliance.checkpoint import Checkpoint
from agent.store.models import AuditHeadRow, Base

__all__ = ["AuditCheckpointRow", "Signer", "all_checkpoints", "latest", "write"]

Signer = Callable[[int, str], Checkpoint]
"""Signs the head (seq, hash) as a checkpoint (the caller holds the key and the clock)."""


class AuditCheckpointRow(Base):
    """One signed checkpoint of the audit chain head (migration 0003_checkpoints)."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


def _record(row: AuditCheckpointRow) -> Checkpoint:
    return Checkpoint(row.seq, row.head_hash, row.at, row.node_id, row.public_key, row.signature)


def latest(s: Session) -> Checkpoint | None:
    """The most recently written checkpoint, or None."""
    row = s.execute(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id.desc()).limit(1)).scalar()
    return _record(row) if row is not None else None


def all_checkpoints(s: Session) -> list[Checkpoint]:
    """Every stored checkpoint, oldest first."""
    rows = s.execute(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id)).scalars()
    return [_record(r) for r in rows]


def write(s: Session, signer: Signer, *, skip_unchanged: bool = False) -> Checkpoint | None:
    """Sign and store the current head; with `skip_unchanged`, None when the last checkpoint has it."""
    head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
    if skip_unchanged:
        last = latest(s)
        if last is not None and (last.seq, last.head_hash) == (head.seq, head.hash):
            return None
    cp = signer(head.seq, head.hash)
    s.add(
        AuditCheckpointRow(
            seq=cp.seq,
            head_hash=cp.head_hash,
            at=cp.at,
            node_id=cp.node_id[:128],
            public_key=cp.public_key,
            signature=cp.signature,
        )
    )
    return cp
