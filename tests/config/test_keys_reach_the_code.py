"""Configuration that never lies (issue 14.5): every key is read, has one default, and its effect is proven.

Walks the settings model. A new key must (1) be read somewhere in agent/ outside config.py,
(2) appear in config.yaml with the same default and a comment, and (3) where a behaviour
can be shown cheaply, have a probe in PROBES below that proves its value reaches the code
that uses it. Keys known to be unread while their owner wires them are in PENDING: they
are strict xfails, so wiring one (or removing it) makes this test say so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from agent.config import CallConfig, Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = "\n".join(
    p.read_text(encoding="utf-8") for p in (ROOT / "agent").rglob("*.py") if p.name != "config.py"
)
PENDING: dict[str, str] = {}  # key: who is wiring it (remove the entry once it is read, or remove the key)


def settings_keys() -> list[str]:
    keys = []
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        keys.extend(f"{section}.{name}" for name in model.model_fields)
    return keys


def is_read(key: str) -> bool:
    name = key.split(".", 1)[1]
    return re.search(rf"\.{re.escape(name)}\b", SOURCES) is not None


# --- probes: the value set in config reaches the code that uses it --------------------------------


def _session(*, buffers_audio: bool = True, **call: Any) -> Any:
    """A call session on fakes, built with these call.* values (inside a running loop)."""
    from agent.testing.fakes import FakeOutput
    from agent.testing.harness import CallHarness

    async def build() -> Any:
        harness = CallHarness(config=CallConfig(**call), output=FakeOutput(buffers_audio=buffers_audio))
        return harness, harness._build()

    return asyncio.run(build())


def probe_vad() -> None:
    harness, _ = _session(vad_enter=0.71, vad_exit=0.22)
    stream = harness.engines.vad_streams[-1]
    assert (stream.enter, stream.leave) == (0.71, 0.22)


def probe_turn_policy() -> None:
    from agent.call.turns import TurnPolicy

    values = {"barge_in_min_ms": 333, "endpoint_short_ms": 222, "endpoint_long_ms": 999, "min_turn_ms": 77}
    _, session = _session(**values)
    assert session._listener.detector.policy == TurnPolicy(333, 77, 222, 999)


def probe_listener() -> None:
    _, session = _session(partial_every_ms=1234, media_gap_ms=456)
    assert session._listener._partial_every == 1234 and session._listener._gap_s == 0.456


def probe_timers() -> None:
    from agent.call import commands as c

    _, session = _session(max_call_s=77, no_input_ms=4321, prerender=False)
    opening = session._policy.start()
    assert c.StartTimer("max_call", 77, 1) in opening
    assert not any(isinstance(x, c.Prefetch) for x in opening)  # prerender off
    quiet = session._policy.on(__import__("agent.call.signals", fromlist=["AgentQuiet"]).AgentQuiet(3))
    assert any(isinstance(x, c.StartTimer) and x.seconds == 4.321 for x in quiet)


def probe_playout() -> None:
    _, session = _session(max_agent_talk_s=7, send_ahead_ms=80, gateway_lead_ms=450, goodbye_grace_ms=1500)
    playout = session._voice.playout
    assert playout._max_talk_frames == 350 and playout._ahead == 0.45  # a buffering gateway: the lead
    assert session._voice._cfg.goodbye_grace_ms == 1500
    _, session = _session(buffers_audio=False, send_ahead_ms=80, gateway_lead_ms=450)
    assert session._voice.playout._ahead == 0.08  # one that plays what it gets: the small send-ahead


def probe_engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agent import engines as engines_module
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeEngines

    seen: dict[str, Any] = {}

    def fake_load(locales: Any, **kwargs: Any) -> FakeEngines:
        seen.update(kwargs, locales=list(locales))
        return FakeEngines()

    monkeypatch.setattr(engines_module.Engines, "load", staticmethod(fake_load))
    settings = Settings(
        engines={"locales": ["en-US"], "asr_threads": 3, "pool_workers": 5, "pool_queue": 9,  # type: ignore[arg-type]
                 "tts_cache_entries": 17, "zh_voice": "zm_yunxi", "tts_cache_dir": tmp_path / "tts",
                 "tts_cache_mb": 7, "zh_asr_beam_size": 2, "en_asr_beam_size": 3, "zh_speed": 0.9,
                 "asr_runner_ups": 2, "vad_thread": False, "zh_asr_window_s": 4.5},
        store={"url": f"sqlite:///{tmp_path / 's.db'}"},  # type: ignore[arg-type]
        dialogue={"prompts_dir": ROOT / "prompts"},  # type: ignore[arg-type]
    )
    runtime = Runtime.load(settings, semantic_nlu=False)
    assert seen == {"locales": ["en-US"], "asr_threads": 3, "pool_workers": 5, "pool_queue": 9,
                    "models_dir": settings.models.dir, "overrides": settings.models.paths,
                    "zh_voice": "zm_yunxi", "tts_cache_dir": tmp_path / "tts", "tts_cache_mb": 7,
                    "zh_asr_beam_size": 2, "en_asr_beam_size": 3, "zh_speed": 0.9, "asr_runner_ups": 2,
                    "vad_thread": False,
                    "zh_asr_window_s": 4.5}
    assert runtime.cache is not None and runtime.cache._max == 17
    assert runtime.registry is not None and {loc for _, loc in runtime.scripts} == {"en-US", "zh-CN"}


def probe_constant_slots(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeEngines

    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 's.db'}"},  # type: ignore[arg-type]
        dialogue={"prompts_dir": ROOT / "prompts",  # type: ignore[arg-type]
                  "constant_slots": {"en-US": {"company_name": "Probe Bank"}}},
    )
    runtime = Runtime.load(settings, engines=FakeEngines(), semantic_nlu=False)

    async def warm() -> None:
        await runtime.start_warm_up()

    asyncio.run(warm())
    assert runtime.cache is not None and runtime.cache.cached(
        "en-US", "Hello, this is an automated AI assistant calling on behalf of Probe Bank, "
        "using a computer-generated voice.")


PROBES: dict[str, Callable[..., None]] = {
    "call.vad_enter": probe_vad,
    "call.vad_exit": probe_vad,
    "call.barge_in_min_ms": probe_turn_policy,
    "call.endpoint_short_ms": probe_turn_policy,
    "call.endpoint_long_ms": probe_turn_policy,
    "call.min_turn_ms": probe_turn_policy,
    "call.partial_every_ms": probe_listener,
    "call.media_gap_ms": probe_listener,
    "call.no_input_ms": probe_timers,
    "call.max_call_s": probe_timers,
    "call.prerender": probe_timers,
    "call.max_agent_talk_s": probe_playout,
    "call.send_ahead_ms": probe_playout,
    "call.gateway_lead_ms": probe_playout,
    "call.goodbye_grace_ms": probe_playout,
    "engines.locales": probe_engines,
    "engines.asr_threads": probe_engines,
    "engines.pool_workers": probe_engines,
    "engines.pool_queue": probe_engines,
    "engines.tts_cache_entries": probe_engines,
    "engines.zh_voice": probe_engines,
    "engines.zh_speed": probe_engines,
    "engines.tts_cache_dir": probe_engines,
    "engines.tts_cache_mb": probe_engines,
    "engines.zh_asr_beam_size": probe_engines,
    "engines.en_asr_beam_size": probe_engines,
    "engines.asr_runner_ups": probe_engines,
    "engines.vad_thread": probe_engines,
    "engines.zh_asr_window_s": probe_engines,
    "dialogue.prompts_dir": probe_engines,
    "dialogue.constant_slots": probe_constant_slots,
    # compliance.record_audio, retention_days, recordings_dir: tests/call/test_recording.py
}


@pytest.mark.parametrize(
    "key",
    [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=PENDING[k])) if k in PENDING else k
     for k in settings_keys()],
)
def test_every_key_is_read(key: str) -> None:
    assert is_read(key), f"config key {key} is never read: make it do what its comment says, or remove it"


@pytest.mark.parametrize("key", sorted(PROBES))
def test_the_key_reaches_the_code(key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    probe = PROBES[key]
    if probe in (probe_engines, probe_constant_slots):
        probe(monkeypatch, tmp_path)
    else:
        probe()


def test_config_yaml_lists_every_key_once_with_the_one_default_and_a_comment() -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    listed = yaml.safe_load(text)
    defaults = Settings.model_construct()
    for key in settings_keys():
        section, name = key.split(".")
        assert name in (listed.get(section) or {}), f"{key} is missing from config.yaml"
        default = getattr(getattr(defaults, section), name)
        value = listed[section][name]
        norm = [str(v) for v in default] if isinstance(default, list) else default
        if isinstance(default, BaseModel):  # a nested group of keys (campaigns.twilio, ...)
            norm = default.model_dump(mode="json")
        same = str(value) == str(norm) or value == default or value == norm
        assert same, f"{key}: config.yaml says {value!r}, config.py {default!r}: keep one default"
        line = next(ln for ln in text.splitlines() if re.match(rf"\s+{name}:", ln))
        assert "#" in line, f"{key} has no comment in config.yaml"
