"""Server lifespan: warm the models up, close stale call records at start-up and every
store.sweep_every_s (issue 12, #6).

The warm-up (agent.warmup, issue 11.2) starts as the server starts and runs in the
background: /healthz answers at once, /readyz answers 503 until it has ended, and a grant
request (POST /v1/calls) or a gateway's call that arrives meanwhile is held until it ends
(at most runtime.WARM_WAIT_S, then refused: HTTP 503 not_ready, or the gateway's
try-again close), so no call is ever served by a cold model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)
CLAIM_GRACE = timedelta(seconds=120)  # beyond call.max_call_s before a claimed call is called dead


async def sweep_once(store: Any, claimed_for: timedelta) -> int:
    """Close expired grants and dead claimed calls once; 0 when the store cannot be written now."""
    try:
        closed: int = await asyncio.to_thread(store.close_stale, None, claimed_for)
    except Exception as exc:  # noqa: BLE001 - a sweep that fails is retried at the next interval
        log.warning("closing stale call records failed: %s", type(exc).__name__)
        return 0
    if closed:
        log.info("closed %d stale call records", closed)
    return closed


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Warm up, sign audit checkpoints (when configured) and sweep stale records, until shutdown."""
    checkpoints = getattr(app.state, "checkpoints", None)
    runtime: Any = getattr(app.state, "runtime", None)  # a Runtime, or None for a store-only app
    warms = runtime is not None and runtime.engines is not None and runtime.cache is not None
    if warms:
        runtime.start_warm_up()
    if checkpoints is not None:
        checkpoints.start()
    try:
        async with _sweeping(app):
            yield
    finally:
        if warms:
            runtime.stop_warm_up()
        if checkpoints is not None:
            await checkpoints.stop()


@contextlib.asynccontextmanager
async def _sweeping(app: FastAPI) -> AsyncIterator[None]:
    """Sweep at start-up, then periodically."""
    store = getattr(app.state, "store", None)
    settings = getattr(app.state, "settings", None)
    if store is None or settings is None or not hasattr(store, "close_stale"):
        yield
        return
    claimed_for = timedelta(seconds=settings.call.max_call_s) + CLAIM_GRACE
    every = settings.store.sweep_every_s

    async def loop() -> None:
        while True:
            await sweep_once(store, claimed_for)
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
