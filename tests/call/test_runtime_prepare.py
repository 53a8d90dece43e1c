"""The runtime renders a granted call's opening before the phone rings, and warms the scripts."""

from __future__ import annotations

import asyncio

import pytest

from agent.testing.harness import SLOTS


@pytest.mark.looptime(noop_cycles=0)
async def test_prepare_call_renders_the_opening_first_and_warms_the_rest_low(fake_runtime: object) -> None:
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeEngines

    assert isinstance(fake_runtime, Runtime) and isinstance(fake_runtime.engines, FakeEngines)
    engines = fake_runtime.engines
    queued = fake_runtime.prepare_call("repayment_reminder", "en-US", SLOTS["en-US"])
    # nothing warmed yet: both disclosure sentences by clause (3 + 2), the question; then, low, the
    # amount of "I've noted that you plan to pay {amount_due} on {promise_date}." (the date comes later)
    assert queued == 7
    await asyncio.sleep(30)
    done = engines.synthesized
    high = [r.text for r in done if r.priority == "high"]
    assert high[:3] == ["Hello,", "this is an automated AI assistant calling on behalf of Acme Finance,",
                        "using a computer-generated voice."]  # in the order they are heard
    assert "Am I speaking with John Smith?" in high
    assert any(r.priority == "low" for r in done)  # slot-free sentences warmed at low priority
    low = [r.text for r in done if r.priority == "low"]
    assert "one thousand two hundred thirty-four dollars and fifty cents" in low
    assert "I've noted that you plan to pay" in low  # the script's words between slots: warmed once
    assert fake_runtime.cache is not None and fake_runtime.cache.cached("en-US", high[0])
    assert fake_runtime.prepare_call("no_such_use_case", "en-US", {}) == 0
    assert fake_runtime.prepare_call("repayment_reminder", "en-US", {}) == 0  # unsayable: skipped


async def test_the_api_prepares_a_granted_call(fake_runtime: object) -> None:
    from agent.demo.runner import LoopbackServer, request_call
    from agent.server.app import create_app

    async with LoopbackServer(create_app(fake_runtime)) as server:
        await request_call(server.base, "dev-key-change-me", "en-US", "repayment_reminder", 500)
        cache = fake_runtime.cache  # type: ignore[attr-defined]
        for _ in range(100):  # real time here (a real socket): the fake synthesiser takes 50 ms
            if cache.cached("en-US", "Am I speaking with John Smith?"):
                break
            await asyncio.sleep(0.05)
    assert cache.cached("en-US", "Am I speaking with John Smith?")
