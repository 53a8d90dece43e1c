"""Store errors: callers fail closed on StoreUnavailable (SPEC 7.8)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for store errors."""


class StoreUnavailable(StoreError):
    """The store cannot be read or written; no call may start and nothing may be acknowledged."""


class InvalidToken(StoreError):
    """A call token is unknown, already used, expired, or not for this call."""


class NotFound(StoreError, LookupError):
    """The customer or call does not exist."""


class Conflict(StoreError, ValueError):
    """The record already exists (e.g. a customer registered twice)."""


class InvalidData(StoreError, ValueError):
    """A value the database refuses (too long, a NUL byte, a naive time): a client mistake, not an outage."""


class WrongState(StoreError):
    """The record is not in a state that allows the action (e.g. a dial result for a claimed call)."""


class KeyMismatch(StoreError):
    """The configured key is not the one the store's data was written with."""
