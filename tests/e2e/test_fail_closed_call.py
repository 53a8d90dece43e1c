"""SPEC 7.8: when the store stops taking writes mid-call, the call ends politely, promising nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import pytest

from agent.demo.customer import SimulatedCustomer
from agent.demo.links import make_link
from agent.demo.runner import LoopbackServer, request_call, synthesize_lines
from agent.demo.scenarios import SCENARIOS
from agent.server.app import create_app

pytestmark = [pytest.mark.models, pytest.mark.slow]


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(2400):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the agent never spoke")


async def test_store_cut_away_mid_call_ends_it_politely(call_runtime: object) -> None:
    runtime = call_runtime
    scenario = SCENARIOS["en-US"]["happy_path"]
    db_path = runtime.settings.store.url.removeprefix("sqlite:///")  # type: ignore[attr-defined]
    async with LoopbackServer(create_app(runtime)) as server:
        speech = await synthesize_lines(runtime, "en-US", scenario)
        grant = await request_call(server.base, "dev-key-change-me", "en-US", "repayment_reminder", 180)
        link = make_link("native", f"ws://127.0.0.1:{server.port}", grant["call_id"], grant["token"])
        customer = SimulatedCustomer(link, scenario, speech)
        lock = sqlite3.connect(db_path, timeout=1, isolation_level=None)
        call = asyncio.create_task(customer.run())
        await _until(lambda: any(e.get("type") == "agent" for e in customer.log.events))
        lock.execute("BEGIN EXCLUSIVE")  # every other writer now times out: the store is gone
        try:
            log = await asyncio.wait_for(call, 120)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    assert log.outcome == "store_unavailable"
    said = [e["text"] for e in log.events if e.get("type") == "agent"]
    assert "technical problem" in said[-1]
    assert not any("noted" in s for s in said)  # no promise was acknowledged
