"""WorkerPool: bounded queue, priorities, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from agent.workers import PoolClosed, PoolOverloaded, WorkerPool


@pytest.mark.asyncio
async def test_runs_off_loop_and_returns_results() -> None:
    pool = WorkerPool(2, 4)
    try:
        main = threading.get_ident()
        tid = await pool.run(threading.get_ident)
        assert tid != main
        assert await pool.run(lambda a, b=0: a + b, 2, b=3) == 5
        with pytest.raises(ZeroDivisionError):
            await pool.run(lambda: 1 / 0)
    finally:
        pool.shutdown()


def test_queue_bound_and_counters() -> None:
    pool = WorkerPool(1, 2)
    gate = threading.Event()
    try:
        running = pool.submit(gate.wait)
        while pool.in_flight != 1:
            time.sleep(0.001)
        waiting = [pool.submit(lambda: 1), pool.submit(lambda: 2)]
        assert pool.queue_depth == 2
        with pytest.raises(PoolOverloaded, match="pool_queue"):
            pool.submit(lambda: 3)
        with pytest.raises(PoolOverloaded):
            pool.submit(lambda: 3, priority="low")
        gate.set()
        assert running.result(5) is True and [f.result(5) for f in waiting] == [1, 2]
        assert pool.queue_depth == 0
    finally:
        gate.set()
        pool.shutdown()


def test_high_priority_jumps_the_queue() -> None:
    pool = WorkerPool(1, 10)
    gate = threading.Event()
    order: list[str] = []
    try:
        pool.submit(gate.wait, priority="low")
        while pool.in_flight != 1:
            time.sleep(0.001)
        lows = [pool.submit(order.append, f"low{i}", priority="low") for i in range(3)]
        high = pool.submit(order.append, "high")
        gate.set()
        high.result(5)
        for f in lows:
            f.result(5)
        assert order == ["high", "low0", "low1", "low2"]  # waited behind one low job at most
    finally:
        gate.set()
        pool.shutdown()


def test_low_work_never_occupies_every_worker() -> None:
    pool = WorkerPool(2, 10)
    gate = threading.Event()
    try:
        lows = [pool.submit(gate.wait, priority="low") for _ in range(3)]
        time.sleep(0.05)
        assert pool.in_flight == 1  # one worker stays free for high-priority work
        started = time.perf_counter()
        assert pool.submit(lambda: "asr").result(5) == "asr"
        assert time.perf_counter() - started < 0.5
        gate.set()
        assert all(f.result(5) for f in lows)
    finally:
        gate.set()
        pool.shutdown()


@pytest.mark.asyncio
async def test_cancelled_await_drops_queued_job() -> None:
    pool = WorkerPool(1, 4)
    gate = threading.Event()
    ran: list[int] = []
    try:
        pool.submit(gate.wait)
        task = asyncio.ensure_future(pool.run(ran.append, 1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        await pool.run(lambda: None)
        assert ran == []
    finally:
        gate.set()
        pool.shutdown()


def test_shutdown_cancels_pending_and_refuses_new() -> None:
    pool = WorkerPool(1, 4)
    gate = threading.Event()
    pool.submit(gate.wait)
    while pool.in_flight != 1:
        time.sleep(0.001)
    pending = pool.submit(lambda: 1)
    threading.Timer(0.05, gate.set).start()
    pool.shutdown()
    assert pending.cancelled()
    with pytest.raises(PoolClosed):
        pool.submit(lambda: 1)


def test_bad_sizes() -> None:
    with pytest.raises(ValueError):
        WorkerPool(0, 1)


def test_high_jobs_run_soonest_due_first() -> None:
    pool = WorkerPool(1, 8)
    gate = threading.Event()
    order: list[str] = []
    try:
        blocker = pool.submit(gate.wait)
        now = time.monotonic()
        later = pool.submit(order.append, "heard in 5 s", due=now + 5)
        soon = pool.submit(order.append, "heard now", due=now)
        default = pool.submit(order.append, "asr (due now by default)")
        gate.set()
        for fut in (blocker, later, soon, default):
            fut.result(timeout=5)
        assert order == ["heard now", "asr (due now by default)", "heard in 5 s"]
    finally:
        pool.shutdown()
