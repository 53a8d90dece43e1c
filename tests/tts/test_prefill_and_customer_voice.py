"""What is rendered before any call, and which voice the demo customer gets."""

from __future__ import annotations

from pathlib import Path

from agent.demo.customer import customer_voice
from agent.dialogue.presynth import slot_free_sentences
from agent.dialogue.registry import ScriptRegistry

ROOT = Path(__file__).resolve().parents[2]


def test_every_slot_free_sentence_of_every_script_and_no_other() -> None:
    scripts = ScriptRegistry(ROOT / "prompts").scripts.values()
    by_locale = slot_free_sentences(scripts)
    assert set(by_locale) == {"en-US", "zh-CN"}
    zh = by_locale["zh-CN"]
    assert "如果您不希望再接到我们的电话，可以随时说“不要再打了”，或者按9。" in zh
    assert "再见。" in zh and zh.count("再见。") == 1  # shared sentences once
    assert all("{" not in s for s in zh)
    assert not any("本人吗" in s for s in zh)  # 请问您是{customer_name}本人吗？ carries a slot


def test_the_customer_is_of_the_other_sex() -> None:
    voices = ["zf_xiaobei", "zf_xiaoyi", "zm_yunxi", "zm_yunyang"]
    assert customer_voice("zf_xiaobei", voices) == "zm_yunxi"
    assert customer_voice("zm_yunxi", voices) == "zf_xiaobei"
    assert customer_voice("zf_xiaobei", ["zf_xiaobei"]) is None


def test_speaking_voices_name_both_sides() -> None:
    from types import SimpleNamespace

    from agent.demo.customer import speaking_voices

    class Voiced:
        voice = "zf_xiaobei"
        voices = ("zf_xiaobei", "zm_yunxi")

        def with_voice(self, voice: str) -> Voiced:
            return self

    kokoro = SimpleNamespace(locales={"zh-CN": SimpleNamespace(tts=Voiced())})
    assert speaking_voices(kokoro, "zh-CN") == {"agent": "zf_xiaobei", "customer": "zm_yunxi"}
    piper = SimpleNamespace(locales={"en-US": SimpleNamespace(tts=object())})
    assert speaking_voices(piper, "en-US") == {"agent": None, "customer": None}
