"""A call's background store writes, in call order; a failure is reported, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from agent.call.tasks import OwnedTasks
from agent.store.errors import StoreUnavailable


class OrderedWrites:
    """Runs each write after every earlier one (a FIFO lock); StoreUnavailable goes to `on_failure`."""

    def __init__(self, tasks: OwnedTasks, on_failure: Callable[[StoreUnavailable], None]) -> None:
        self._tasks = tasks
        self._lock = asyncio.Lock()
        self._on_failure = on_failure

    def submit(self, write: Callable[[], Awaitable[None]]) -> None:
        """Queue `write()`; its coroutine is made only once it may run."""
        self._tasks.spawn(self._in_order(write))

    async def _in_order(self, write: Callable[[], Awaitable[None]]) -> None:
        async with self._lock:
            try:
                await write()
            except StoreUnavailable as exc:
                self._on_failure(exc)
