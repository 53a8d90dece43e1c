"""/metrics (SPEC 9.1, issue 7): every family exposed, and a real demo call fills them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.server.metrics import Metrics


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_observe_refusal_outcome_and_engine_gauges() -> None:
    m = Metrics()
    pool = SimpleNamespace(queue_depth=3, in_flight=1)
    m.bind_engines(SimpleNamespace(pool=pool, load_ms={"vad": 40, "asr:en-US": 900}))
    for name, value in (("voice_to_voice_ms", 420), ("asr_ms", 150), ("tts_ms", 80), ("nlu_ms", 2),
                        ("opt_out_persist_ms", 25), ("barge_in", 1), ("something_new", 5)):
        m.observe(name, value)
    m.call_finished("opted_out")
    m.refusal("suppressed")
    m.refusal("suppressed")
    body, ctype = m.render()
    assert ctype.startswith("text/plain")
    s = _samples(body.decode())
    assert s[("voice_agent_voice_to_voice_seconds_count", ())] == 1
    assert s[("voice_agent_voice_to_voice_seconds_bucket", (("le", "0.45"),))] == 1
    assert s[("voice_agent_voice_to_voice_seconds_bucket", (("le", "0.3"),))] == 0
    for stage in ("asr", "tts", "nlu"):
        assert s[(f"voice_agent_{stage}_seconds_count", ())] == 1
    assert s[("voice_agent_calls_total", (("outcome", "opted_out"),))] == 1
    assert s[("voice_agent_gate_refusals_total", (("reason", "suppressed"),))] == 2
    assert s[("voice_agent_opt_outs_total", ())] == 1
    assert s[("voice_agent_barge_ins_total", ())] == 1
    assert s[("voice_agent_worker_pool_queue_depth", ())] == 3
    pool.queue_depth = 0
    assert _samples(m.render()[0].decode())[("voice_agent_worker_pool_queue_depth", ())] == 0
    assert s[("voice_agent_worker_pool_in_flight", ())] == 1
    assert s[("voice_agent_model_load_seconds", (("model", "asr:en-US"),))] == pytest.approx(0.9)
    assert s[("voice_agent_active_calls", ())] == 0


@pytest.mark.slow
@pytest.mark.models
async def test_metrics_scraped_during_and_after_a_demo_call(tmp_path: Path) -> None:
    from agent.config import Settings
    from agent.demo.runner import LoopbackServer, run_scenario
    from agent.demo.scenarios import SCENARIOS
    from agent.runtime import Runtime
    from agent.server.app import create_app

    (tmp_path / "models").mkdir()
    cfg = Settings(
        store={"url": f"sqlite:///{tmp_path / 'metrics.db'}"},  # type: ignore[arg-type]
        models={"dir": tmp_path / "models"},  # type: ignore[arg-type]
    )
    runtime = await asyncio.to_thread(Runtime.load, cfg)
    runtime.metrics = Metrics()
    runtime.metrics.bind_engines(runtime.engines)
    try:
        async with LoopbackServer(create_app(runtime)) as server:
            call = asyncio.create_task(run_scenario(runtime, server, SCENARIOS["en-US"]["opt_out"]))
            during: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
            async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
                while not call.done():
                    text = (await http.get("/metrics")).text
                    current = _samples(text)
                    if current[("voice_agent_active_calls", ())] >= 1:
                        during = current
                    await asyncio.sleep(0.25)
                result = await call
                reply = await http.get("/metrics")
        assert reply.headers["content-type"].startswith("text/plain")
        after = _samples(reply.text)
    finally:
        runtime.engines.close()
    assert result.report["outcome"] == "opted_out"
    assert during, "no scrape saw the call in progress (voice_agent_active_calls stayed 0)"
    assert after[("voice_agent_active_calls", ())] == 0
    assert after[("voice_agent_voice_to_voice_seconds_count", ())] >= 1
    assert after[("voice_agent_voice_to_voice_seconds_sum", ())] > 0
    assert after[("voice_agent_asr_seconds_count", ())] >= 1
    assert after[("voice_agent_opt_outs_total", ())] == 1
    assert after.get(("voice_agent_calls_total", (("outcome", "opted_out"),))) == 1, (
        "the finished call was not counted by outcome: the socket layer must call metrics.call_finished"
    )
    assert ("voice_agent_model_load_seconds", (("model", "asr:en-US"),)) in after
    assert ("voice_agent_worker_pool_queue_depth", ()) in after
