"""Durable store (SQLite or PostgreSQL) for calls, turns, attempts, suppression, consent and audit."""

from agent.store.errors import (
    Conflict,
    InvalidData,
    InvalidToken,
    KeyMismatch,
    NotFound,
    StoreError,
    StoreUnavailable,
    WrongState,
)
from agent.store.records import CallGrant, CallRecord, CallRefusal, CallRequest, ClaimedCall, TurnRecord
from agent.store.store import Store

__all__ = [
    "CallGrant",
    "CallRecord",
    "CallRefusal",
    "CallRequest",
    "ClaimedCall",
    "Conflict",
    "InvalidData",
    "InvalidToken",
    "KeyMismatch",
    "NotFound",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TurnRecord",
    "WrongState",
]
