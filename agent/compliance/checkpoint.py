"""Signed checkpoints of the audit chain head (Ed25519): an anchor an insider cannot rewrite.

The hash chain (agent.compliance.audit) catches any change, deletion or reordering of events,
but someone who can write the database can recompute every hash and the head row together.
A checkpoint is the head (seq, hash) signed with a key the database does not hold; kept outside
the database (exported to a file, a ticket, a WORM bucket), it proves what the chain held then:
a rewritten chain no longer has that hash at that seq. Pure: keys and times are passed in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.compliance.audit import AuditEvent, format_at

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "check_chain",
    "from_json",
    "generate_key",
    "load_private_key",
    "parse_public_key",
    "private_key_pem",
    "public_key_text",
    "sign",
    "verify_signature",
]

FORMAT = "voice-agent-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, is not signed by the trusted key, or does not match the chain."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain head at one moment, signed: `signature` covers every other field."""

    seq: int
    head_hash: str
    at: str  # UTC, the audit chain's timestamp form
    node_id: str
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    signature: str  # base64 of the 64-byte signature over `payload()`
    format: str = FORMAT

    def payload(self) -> bytes:
        """The signed bytes: canonical JSON of every field except the signature."""
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def to_json(self) -> str:
        """The exported form (one JSON object, stable key order)."""
        return json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def generate_key() -> Ed25519PrivateKey:
    """A fresh signing key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (keep the file 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM Ed25519 private key; CheckpointError when it is not one."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the signing key must be an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """base64 of the raw public key: what operators pin and pass as --public-key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as base64 of the raw 32 bytes, or as a PEM block."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(key, Ed25519PublicKey):
                raise CheckpointError("the public key must be an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise CheckpointError(f"not an Ed25519 public key: {exc}") from exc


def sign(key: Ed25519PrivateKey, seq: int, head_hash: str, at: datetime, node_id: str) -> Checkpoint:
    """A signed checkpoint of the head (seq, head_hash) at `at` (timezone-aware)."""
    unsigned = Checkpoint(seq, head_hash, format_at(at), node_id, public_key_text(key), "")
    signature = base64.b64encode(key.sign(unsigned.payload())).decode("ascii")
    return Checkpoint(seq, head_hash, unsigned.at, node_id, unsigned.public_key, signature)


def from_json(text: str) -> Checkpoint:
    """Parse an exported checkpoint; CheckpointError naming what is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f'not a checkpoint (expected "format": "{FORMAT}")')
    try:
        cp = Checkpoint(
            seq=int(raw["seq"]),
            head_hash=str(raw["head_hash"]),
            at=str(raw["at"]),
            node_id=str(raw["node_id"]),
            public_key=str(raw["public_key"]),
            signature=str(raw["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint field missing or malformed: {exc}") from exc
    if cp.seq < 0 or len(cp.head_hash) != 64:
        raise CheckpointError("checkpoint seq or head_hash is malformed")
    return cp


def verify_signature(cp: Checkpoint, trusted: Ed25519PublicKey | None = None) -> None:
    """Raise CheckpointError unless `cp` is signed by `trusted` (or, with none, by the key it names)."""
    if trusted is not None and public_key_text(trusted) != cp.public_key:
        raise CheckpointError("the checkpoint was signed by a different key than the trusted one")
    key = trusted or parse_public_key(cp.public_key)
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), cp.payload())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise CheckpointError("the checkpoint's signature does not match its contents") from exc


def check_chain(cp: Checkpoint, events: Sequence[AuditEvent]) -> str | None:
    """Why the stored chain disagrees with the checkpoint, or None when event `cp.seq` has its hash.

    Events after the checkpoint are fine (the chain grew); whether the chain itself links is
    `audit.verify`'s job.
    """
    if cp.seq == 0:
        return None
    index = cp.seq - 1
    event = events[index] if 0 <= index < len(events) and events[index].seq == cp.seq else None
    if event is None:
        event = next((e for e in events if e.seq == cp.seq), None)
    if event is None:
        last = events[-1].seq if events else 0
        return (
            f"the chain ends at seq {last} but the checkpoint of {cp.at} covers seq {cp.seq}: "
            "events were removed"
        )
    if event.hash != cp.head_hash:
        return (
            f"event seq {cp.seq} does not have the hash signed in the checkpoint of {cp.at}: "
            "the chain was rewritten"
        )
    return None
