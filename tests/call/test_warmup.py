"""Issue 11.2: the server warms up before it says it is ready, and the first call's first words
come from the cache; a sentence nobody rendered yet starts with its first clause."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from agent.call.script_units import opening_units
from agent.config import Settings
from agent.demo.runner import daytime_zone
from agent.dialogue.presynth import fixed_sentences
from agent.testing.fakes import FakeEngines
from agent.testing.harness import SLOTS, CallHarness, script_for
from agent.transports.base import CallStart
from agent.transports.closes import CLOSE_TRY_AGAIN, Refused
from agent.tts.base import Speech

ROOT = Path(__file__).resolve().parents[2]
EN_FIRST = ("Hello, this is an automated AI assistant calling on behalf of Acme Finance, "
            "using a computer-generated voice.")
EN_OPT_OUT = "If you'd like us to stop calling, say stop calling or press 9 at any time."
ZH_FIRST = "您好，我是安心金融的人工智能客服，本次通话使用的是合成语音。"


class GatedEngines(FakeEngines):
    """Fake engines whose synthesis waits for `gate` (a thread event: the app may run in another loop)."""

    def __init__(self, *, fail: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = threading.Event()
        self.fail = fail

    async def synthesize(self, locale: str, text: str, priority: str = "high", *,
                         due: float | None = None) -> Speech:
        await asyncio.to_thread(self.gate.wait)
        if self.fail:
            raise RuntimeError("the voice is broken")
        return await super().synthesize(locale, text, priority, due=due)


def _runtime(tmp_path: Path, engines: FakeEngines, locales: tuple[str, ...] = ("en-US",)) -> Any:
    from agent.runtime import Runtime

    settings = Settings()
    settings.store.url = f"sqlite:///{tmp_path / 'calls.db'}"
    settings.dialogue.prompts_dir = ROOT / "prompts"
    settings.engines.locales = list(locales)  # type: ignore[assignment]
    return Runtime.load(settings, engines=engines, semantic_nlu=False)


def test_the_openings_fixed_pieces() -> None:
    en, zh = script_for("repayment_reminder", "en-US"), script_for("repayment_reminder", "zh-CN")
    # "Am I speaking with {customer_name}?": its words, the name is the call's
    assert opening_units(en, {"company_name": "Acme Finance"}) == [EN_FIRST, EN_OPT_OUT, "Am I speaking with"]
    assert opening_units(en, {}) == ["Hello, this is an automated AI assistant calling on behalf of",
                                     "using a computer-generated voice.", EN_OPT_OUT, "Am I speaking with"]
    assert opening_units(zh, {"company_name": "安心金融"})[0] == ZH_FIRST
    # 您好，我是{company_name}的……: the name is the call's, the words around it the same on every call
    assert opening_units(zh, {})[:2] == ["您好，我是", "的人工智能客服，本次通话使用的是合成语音。"]


def test_the_background_warm_covers_sentences_completed_by_the_constants() -> None:
    en = script_for("repayment_reminder", "en-US")
    fixed = fixed_sentences(en, {"company_name": "Acme Finance"})
    check = "You can check this call is really from Acme Finance by calling the number in our official app."
    assert check in fixed
    assert EN_FIRST in fixed and "Will you be able to make that payment by then?" in fixed
    assert not any("{" in s or "John" in s for s in fixed)  # nothing that needs the call's own values
    assert not any("Acme" in s for s in fixed_sentences(en, {}))


@pytest.mark.looptime(noop_cycles=0)
async def test_warm_up_renders_the_openings_and_runs_every_model(tmp_path: Path) -> None:
    engines = FakeEngines()
    runtime = _runtime(tmp_path, engines, ("en-US", "zh-CN"))
    await runtime.start_warm_up()
    assert runtime.ready and runtime.warmth == "warm"
    report = runtime.warm_report
    assert set(report.steps_ms) == {"tts:en-US", "tts:zh-CN", "vad", "asr:en-US", "asr:zh-CN", "nlu:en-US",
                                    "nlu:zh-CN"}
    assert runtime.cache.cached("en-US", EN_FIRST) and runtime.cache.cached("zh-CN", ZH_FIRST)
    # the default use case's words between slots too: the first call's replies never render them live
    assert runtime.cache.cached("en-US", "I've noted that you plan to pay")
    assert runtime.cache.cached("zh-CN", "谢谢，我已经记下：您计划在")
    assert len(engines.vad_streams) == 1 and engines.vad_streams[0].pushed  # the VAD ran on real frames
    assert [partial for _, partial, _ in engines.transcribed] == [False, False]  # one real recognition each


@pytest.mark.looptime(noop_cycles=0)
async def test_the_first_call_after_the_warm_up_speaks_from_the_cache(tmp_path: Path) -> None:
    engines = FakeEngines(synth_delay_s=2.0)  # a slow voice: a synthesis on the call would show
    runtime = _runtime(tmp_path, engines)
    await runtime.start_warm_up()
    rendered = len(engines.synthesized)
    async with CallHarness(engines=engines, cache=runtime.cache) as call:
        await call.until(lambda: call.out.heard(), 10)
        call.hang_up()
        result = await call.ended()
    first = call.out.heard()[0][1]
    assert first == EN_FIRST  # the whole first sentence, with the lender's name, as warmed
    assert result.first_audio_ms is not None and result.timings(0)["first_audio_ms"] == result.first_audio_ms
    after = [r.text for r in engines.synthesized[rendered:]]
    assert EN_FIRST not in after and EN_OPT_OUT not in after  # nothing of it was synthesised for the call


@pytest.mark.looptime(noop_cycles=0)
async def test_a_sentence_with_a_per_call_slot_starts_with_its_words_before_the_slot() -> None:
    engines = FakeEngines(synth_delay_for=lambda text: 0.02 * len(text))  # longer text, longer render
    slots = {**SLOTS["en-US"], "company_name": "Other Lender"}  # not a warmed constant
    async with CallHarness(engines=engines, slots=slots) as call:
        await call.until(lambda: len({what for _, what in call.out.heard()}) >= 2, 20)
        call.hang_up()
    # cut at the name; the words before it, not rendered yet either, by clause
    units = ["Hello,", "this is an automated AI assistant calling on behalf of", "Other Lender,",
             "using a computer-generated voice."]
    asked = [r.text for r in engines.synthesized]
    assert EN_FIRST.replace("Acme Finance", "Other Lender") not in asked and set(units) <= set(asked)
    first_at, first = call.out.heard()[0]
    assert first == "Hello,"
    second = next(r for r in engines.synthesized if r.text == units[1])
    assert first_at < second.done_at  # the customer hears "Hello," while the rest still renders


KEY = {"X-API-Key": "dev-key-change-me"}


def _customer(client: Any, number: int) -> str:
    customer = {"external_ref": f"warm-{number}", "phone": f"+1202555{number:04d}", "name": "John Smith",
                "timezone": daytime_zone("en-US"), "locale": "en-US", "jurisdiction": "US"}
    reply = client.post("/v1/customers", json=customer, headers=KEY)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["customer_id"])


def _post_call(client: Any, customer_id: str) -> Any:
    body = {"customer_id": customer_id, "use_case": "repayment_reminder", "locale": "en-US",
            "purpose": "servicing", "debt_id": "warm-debt", "slots": SLOTS["en-US"]}
    return client.post("/v1/calls", json=body, headers=KEY)


def test_ready_only_after_the_warm_up_and_calls_held_until_then(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from agent.server.app import create_app

    engines = GatedEngines()
    runtime = _runtime(tmp_path, engines)
    with TestClient(create_app(runtime)) as client, ThreadPoolExecutor(1) as pool:
        warming = client.get("/readyz")
        assert warming.status_code == 503 and warming.json()["warm_up"] == "warming"
        assert client.get("/healthz").status_code == 200  # up, not ready
        held = pool.submit(_post_call, client, _customer(client, 7001))
        with pytest.raises(TimeoutError):
            held.result(timeout=0.3)  # the grant waits for the warm-up (it cannot end before the gate)
        engines.gate.set()
        granted = held.result(timeout=30)
        assert granted.status_code == 201, granted.text
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["warm_up"] == "warm"


def test_a_call_that_outwaits_the_warm_up_is_refused_as_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from agent import runtime as runtime_module
    from agent.server.app import create_app

    monkeypatch.setattr(runtime_module, "WARM_WAIT_S", 0.05)
    engines = GatedEngines()
    runtime = _runtime(tmp_path, engines)
    with TestClient(create_app(runtime)) as client:
        refused = _post_call(client, _customer(client, 7002))
        assert refused.status_code == 503 and refused.json()["error"] == "not_ready"
        assert refused.headers["retry-after"]
        with pytest.raises(Refused) as gateway:
            client.portal.call(runtime.admit, CallStart("native", call_id="c-1", token="t"))
        assert gateway.value.code == CLOSE_TRY_AGAIN  # the gateway's "try again", before any claim
        with client.websocket_connect("/ws/native") as ws:  # the same over the wire
            ws.send_text(json.dumps({"type": "start", "call_id": "c-2", "token": "t", "sample_rate": 16000}))
            error = ws.receive_json()
            assert error["type"] == "error" and error["code"] == CLOSE_TRY_AGAIN, error
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == CLOSE_TRY_AGAIN
        engines.gate.set()


async def test_a_broken_voice_fails_the_warm_up_and_the_server_never_says_ready(tmp_path: Path) -> None:
    engines = GatedEngines(fail=True)
    engines.gate.set()
    runtime = _runtime(tmp_path, engines)
    await runtime.start_warm_up()
    assert runtime.warmth == "failed" and not runtime.ready
    with pytest.raises(Refused) as refused:
        await runtime.admit(CallStart("native", call_id="c-1", token="t"))
    assert refused.value.code == CLOSE_TRY_AGAIN
