"""Tasks and timers owned by one call: referenced until done (RUF006), cancelled at its end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from agent.call.signals import TimerFired

T = TypeVar("T")


class OwnedTasks:
    """A set of tasks that live no longer than their owner."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `coro` as a task kept referenced until it finishes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel every task still running and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Timers:
    """Named one-shot timers that put a TimerFired into the call's queue."""

    def __init__(self, put: Callable[[TimerFired], None]) -> None:
        self._put = put
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, seconds: float, token: int) -> None:
        """(Re)start `name`; it fires once, `seconds` from now."""
        self.cancel(name)
        loop = asyncio.get_running_loop()
        self._handles[name] = loop.call_later(seconds, self._put, TimerFired(name, token))

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def close(self) -> None:
        for name in list(self._handles):
            self.cancel(name)
