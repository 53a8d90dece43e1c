"""What a call writes to the durable store, as an async interface the session awaits.

The store itself is blocking (SQLAlchemy); `StoreRecorder` runs each write on a thread so
the event loop never waits on disk. An opt-out is acknowledged only after
`record_opt_out` has returned, i.e. after the suppression entry is committed (SPEC 7.3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agent.store.store import Store


class CallRecorder(Protocol):
    """The durable side effects of one call."""

    async def record_opt_out(self, call_id: str, scope: str, via: str) -> None: ...

    async def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int
    ) -> None: ...

    async def record_event(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None: ...

    async def finish_call(self, call_id: str, outcome: str, timings: Mapping[str, Any]) -> None: ...


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the pure core is given time, never reads it)."""
    return datetime.now(UTC)


class StoreRecorder:
    """A CallRecorder over `agent.store.Store`, each write on a worker thread."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record_opt_out(self, call_id: str, scope: str, via: str) -> None:
        await asyncio.to_thread(self._store.record_opt_out, call_id, scope, via, utcnow())

    async def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int
    ) -> None:
        await asyncio.to_thread(
            self._store.record_turn, call_id, speaker, text, intent, start_ms, utcnow()
        )

    async def record_event(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None:
        await asyncio.to_thread(self._store.record_event, call_id, kind, dict(data), utcnow())

    async def finish_call(self, call_id: str, outcome: str, timings: Mapping[str, Any]) -> None:
        await asyncio.to_thread(self._store.finish_call, call_id, outcome, dict(timings), utcnow())
