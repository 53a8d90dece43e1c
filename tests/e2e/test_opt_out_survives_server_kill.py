"""SPEC 7.3: an opt-out is never lost. The server is SIGKILLed the moment it reports the
opt-out, before its confirmation has finished playing; after a restart on the same store
the number is suppressed and the gate refuses it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from agent.bench.proc import ServerProcess
from agent.demo.customer import SimulatedCustomer
from agent.demo.links import make_link
from agent.demo.runner import DEMO_PHONE, request_call, synthesize_lines
from agent.demo.scenarios import SCENARIOS

pytestmark = [pytest.mark.models, pytest.mark.slow]

API = {"X-API-Key": "dev-key-change-me"}
NUMBER = 160


async def test_opt_out_survives_a_killed_server(call_runtime: object, tmp_path: Path) -> None:
    scenario = SCENARIOS["en-US"]["opt_out"]
    speech = await synthesize_lines(call_runtime, "en-US", scenario)
    first = ServerProcess(tmp_path)
    await first.start()
    try:
        grant = await request_call(first.base, API["X-API-Key"], "en-US", "repayment_reminder", NUMBER)
        link = make_link("native", f"ws://127.0.0.1:{first.port}", grant["call_id"], grant["token"])
        customer = SimulatedCustomer(link, scenario, speech, max_call_s=90)
        call = asyncio.create_task(customer.run())
        while not any(e.get("type") == "opt_out" for e in customer.log.events):
            assert not call.done(), "the call ended without an opt-out"
            await asyncio.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)  # detected and reported: now pull the plug
        await asyncio.wait_for(call, 30)
        assert customer.log.outcome != "opted_out"  # the hang-up never came: it really died mid-call
    finally:
        first.stop()

    second = ServerProcess(tmp_path)  # same folder, same SQLite store
    await second.start()
    try:
        phone = DEMO_PHONE["en-US"].format(NUMBER)
        async with httpx.AsyncClient(base_url=second.base, headers=API) as http:
            check = (await http.get("/v1/suppressions/check", params={"phone": phone})).json()
            assert check["suppressed"] is True
            refused = await http.post(
                "/v1/calls", json={"phone": phone, "purpose": "servicing", "locale": "en-US"}
            )
            assert refused.status_code == 403 and refused.json()["reason"] == "suppressed"
            audit = (await http.post("/v1/audit/verify")).json()
            assert audit["ok"] is True
    finally:
        second.stop()
