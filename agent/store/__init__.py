"""Durable store (SQLite or PostgreSQL) for calls, turns, attempts, suppression, consent and audit."""

from agent.store.errors import Conflict, InvalidToken, NotFound, StoreError, StoreUnavailable
from agent.store.records import CallGrant, CallRefusal, CallRequest, ClaimedCall
from agent.store.store import Store

__all__ = [
    "CallGrant",
    "CallRefusal",
    "CallRequest",
    "ClaimedCall",
    "Conflict",
    "InvalidToken",
    "NotFound",
    "Store",
    "StoreError",
    "StoreUnavailable",
]
