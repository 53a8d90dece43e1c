"""The bench customer speaks as the demo's does: for zh-CN Kokoro, a voice of the other sex.

The bench once rendered the customer's lines with the agent's own synthesiser and voice (its
stand-in engines had no `locales`), whisper heard "明天还款" as "宁杰皇款", and every zh-CN
happy_path call of the bench ended `no_response` while the demo passed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from agent.bench.runner import BenchOptions, client_voice
from agent.demo.customer import speaking_voices
from agent.demo.runner import synthesize_lines
from agent.demo.scenarios import SCENARIOS


@dataclass
class Voiced:
    """A Kokoro-shaped synthesiser: a voice, the voices it has, and a copy in another voice."""

    voice: str = "zf_xiaobei"
    voices: tuple[str, ...] = ("zf_xiaobei", "zf_xiaoyi", "zm_yunjian", "zm_yunxi")
    spoken: list[tuple[str, str]] = field(default_factory=list)

    def with_voice(self, voice: str) -> Voiced:
        return Voiced(voice, self.voices, self.spoken)

    def synthesize(self, text: str) -> Any:
        self.spoken.append((self.voice, text))
        return SimpleNamespace(pcm16k=np.full(1600, 1000, dtype=np.int16))


def test_the_zh_bench_customer_speaks_in_the_demo_customer_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    agent_tts = Voiced()
    monkeypatch.setattr("agent.engines._load_tts", lambda model, **kw: agent_tts)
    monkeypatch.setattr("agent.models.resolver.resolve", lambda name, **kw: SimpleNamespace(name=name))
    cfg = SimpleNamespace(models=SimpleNamespace(dir="models", paths={}),
                          engines=SimpleNamespace(zh_voice="zf_xiaobei"))
    opts = BenchOptions(locale="zh-CN")
    voice = client_voice(opts, cfg)
    assert speaking_voices(voice.engines, "zh-CN") == {"agent": "zf_xiaobei", "customer": "zm_yunjian"}
    scenario = SCENARIOS["zh-CN"]["happy_path"]
    speech = asyncio.run(synthesize_lines(voice, "zh-CN", scenario))
    assert set(speech) == {"对，是我。", "明天还款。"}
    assert {v for v, _ in agent_tts.spoken} == {"zm_yunjian"}  # never the agent's own voice


def test_the_bench_loads_the_configured_agent_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, Any] = {}

    def load(model: Any, **kw: Any) -> Voiced:
        asked.update(kw)
        return Voiced(voice=kw.get("voice") or "zf_xiaobei")

    monkeypatch.setattr("agent.engines._load_tts", load)
    monkeypatch.setattr("agent.models.resolver.resolve", lambda name, **kw: SimpleNamespace(name=name))
    cfg = SimpleNamespace(models=SimpleNamespace(dir="models", paths={}),
                          engines=SimpleNamespace(zh_voice="zm_yunxi"))
    voice = client_voice(BenchOptions(locale="zh-CN"), cfg)
    assert asked["voice"] == "zm_yunxi"
    assert speaking_voices(voice.engines, "zh-CN")["customer"] == "zf_xiaobei"
