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
