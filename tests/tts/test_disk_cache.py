"""The TTS disk cache: keyed by voice fingerprint and text, atomic under concurrent writers, bounded."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from agent.tts.base import RATE, Speech, split_clauses
from agent.tts.disk_cache import CachedSynthesizer, ClauseSynthesizer, DiskCache


class CountingVoice:
    """A clause synthesiser whose audio is a deterministic function of the text, counting renders."""

    def __init__(self, fingerprint: str = "voice-a") -> None:
        self.fingerprint = fingerprint
        self.rendered: list[str] = []
        self._lock = threading.Lock()

    def clauses(self, text: str) -> list[str]:
        return split_clauses(text)

    def synthesize_clause(self, clause: str) -> Speech:
        with self._lock:
            self.rendered.append(clause)
        seed = sum(map(ord, clause))
        pcm = np.random.default_rng(seed).integers(-3000, 3000, 1600 + 160 * len(clause)).astype(np.int16)
        return Speech(pcm, clause, RATE, 1)


def test_the_fake_voice_is_a_clause_synthesizer() -> None:
    assert isinstance(CountingVoice(), ClauseSynthesizer)


def test_a_clause_is_rendered_once_and_then_read_from_disk(tmp_path: Path) -> None:
    voice = CountingVoice()
    tts = CachedSynthesizer(voice, DiskCache(tmp_path, 10 << 20))
    text = "您好，我是安心金融的人工智能客服，本次通话使用的是合成语音。"
    first = tts.synthesize(text)
    assert len(voice.rendered) == 2
    again = CachedSynthesizer(CountingVoice(), DiskCache(tmp_path, 10 << 20))  # a restarted process
    second = again.synthesize(text)
    assert np.array_equal(first.pcm16k, second.pcm16k)
    assert again.inner.rendered == []  # type: ignore[attr-defined]
    assert again.missing(text) == [] and again.missing("新的一句话。") == ["新的一句话。"]


def test_a_sentence_sharing_a_clause_reuses_it(tmp_path: Path) -> None:
    voice = CountingVoice()
    tts = CachedSynthesizer(voice, DiskCache(tmp_path, 10 << 20))
    tts.synthesize("如有变化，可以拨打客服电话联系我们。")
    tts.synthesize("如有变化，请及时告诉我们。")
    assert voice.rendered.count("如有变化，") == 1


def test_another_voice_or_model_never_replays_this_audio(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10 << 20)
    CachedSynthesizer(CountingVoice("voice-a"), cache).synthesize("请按时还款。")
    other = CountingVoice("voice-b")
    CachedSynthesizer(other, cache).synthesize("请按时还款。")
    assert other.rendered == ["请按时还款。"]


def test_concurrent_writers_leave_whole_files_only(tmp_path: Path) -> None:
    voice = CountingVoice()
    texts = [f"第{i}句话，内容各不相同。" for i in range(12)]

    def work() -> None:
        tts = CachedSynthesizer(voice, DiskCache(tmp_path, 10 << 20))
        for t in texts:
            tts.synthesize(t)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not list(tmp_path.rglob("*.tmp"))
    fresh = CachedSynthesizer(CountingVoice(), DiskCache(tmp_path, 10 << 20))
    for t in texts:
        assert np.array_equal(fresh.synthesize(t).pcm16k, CountingVoice().synthesize_clause(t).pcm16k) or \
            len(split_clauses(t)) > 1
    assert fresh.inner.rendered == []  # type: ignore[attr-defined]


def test_the_folder_stays_under_its_bound(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 60_000)
    tts = CachedSynthesizer(CountingVoice(), cache)
    for i in range(40):
        tts.synthesize(f"这是第{i}句话。")
    total = sum(f.stat().st_size for f in tmp_path.rglob("*.pcm"))
    assert total <= 60_000
    assert tts.missing("这是第39句话。") == []  # the most recent survives eviction


def test_an_unwritable_folder_degrades_to_no_cache(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10 << 20)
    blocker = tmp_path / "ab"
    blocker.write_text("not a folder")
    cache.put("ab" + "0" * 62, np.zeros(10, np.int16))  # logs a warning, raises nothing
    assert cache.get("ab" + "0" * 62) is None


def test_split_clauses() -> None:
    assert split_clauses("好的，已为您记录：三月五日还款一千元。") == [
        "好的，已为您记录：", "三月五日还款一千元。"]
    assert split_clauses("可以随时说“不要再打了，谢谢”，或者按九。") == [
        "可以随时说“不要再打了，谢谢”，", "或者按九。"]
    assert split_clauses("明白，您对这笔账单有疑问。") == ["明白，您对这笔账单有疑问。"]
    assert split_clauses("再见。") == ["再见。"] and split_clauses("  ") == []


def test_only_what_sounds_the_same_on_every_call_is_written_to_disk(tmp_path: Path) -> None:
    """A customer's name, amount or date is rendered for the call and never outlives it on disk."""
    tts = CachedSynthesizer(CountingVoice(), DiskCache(tmp_path, 10 << 20))
    tts.keep_only(["好的，已为您记录：", "还款。"])
    tts.synthesize("好的，已为您记录：")
    tts.synthesize("王静，12月5日还款一百二十元。")  # this call's values
    tts.synthesize("还款。")
    restarted = CachedSynthesizer(CountingVoice(), DiskCache(tmp_path, 10 << 20))
    assert restarted.missing("好的，已为您记录：") == [] and restarted.missing("还款。") == []
    values = "王静，12月5日还款一百二十元。"
    assert restarted.missing(values) == restarted.clauses(values)  # none of it on disk
    kept = {c for t in ("好的，已为您记录：", "还款。") for c in restarted.clauses(t)}
    assert len(list(tmp_path.rglob("*.pcm"))) == len(kept)


def test_the_runtime_keeps_only_script_text_on_disk() -> None:
    """What the runtime names as the same on every call holds no slot and no value a call brings."""
    from agent.config import Settings
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeEngines

    root = Path(__file__).resolve().parents[2]
    settings = Settings()
    settings.store.url = "sqlite://"
    settings.dialogue.prompts_dir = root / "prompts"
    runtime = Runtime.load(settings, engines=FakeEngines(), semantic_nlu=False)
    same = runtime.same_on_every_call()
    assert set(same) == {"en-US", "zh-CN"}
    assert all("{" not in t for texts in same.values() for t in texts)
    assert "如果您不希望再接到我们的电话，可以随时说“不要再打了”，或者按9。" in same["zh-CN"]
    assert "I've noted that you plan to pay" in same["en-US"]  # the script's words between two slots
