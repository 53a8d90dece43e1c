"""zh-CN transcripts: Simplified characters, prompts that cannot truncate, coverage, CER scoring."""

from __future__ import annotations

import numpy as np

from agent.asr.whisper import covers, prompt_text, voiced_seconds
from agent.asr.zh_text import cer, normalise_pair, to_simplified


def test_traditional_becomes_simplified() -> None:
    assert to_simplified("請問您能在到期前還上嗎？我已經還了。") == "请问您能在到期前还上吗？我已经还了。"
    assert to_simplified("不要再打了") == "不要再打了"
    assert to_simplified("") == ""


def test_a_hint_is_never_a_finished_sentence() -> None:
    assert prompt_text("是的, 我是, 不是, 打错了, 不要再打了", "zh") == "是的，我是，不是，打错了，不要再打了"
    assert prompt_text("以下是普通话的句子。", "zh") == "以下是普通话的句子"
    assert prompt_text("yes, no, already paid.", "en") == "yes, no, already paid."  # English: unchanged


def _speechlike(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 3 * t) > -0.6).astype(np.float32)  # syllable-like bursts
    return (0.2 * np.sin(2 * np.pi * 180 * t) * envelope).astype(np.float32)


def test_voiced_seconds_ignores_silence() -> None:
    audio = np.concatenate([np.zeros(16000, np.float32), _speechlike(3.0), np.zeros(16000, np.float32)])
    assert 2.0 < voiced_seconds(audio) < 3.2
    assert voiced_seconds(np.zeros(16000, np.float32)) == 0.0


def test_a_decode_far_shorter_than_the_speech_does_not_cover_it() -> None:
    audio = _speechlike(4.0)
    assert not covers("好的", audio, "zh")  # two characters for ~3 s of voiced speech: truncated
    assert covers("好的，我下周五之前一定还上这笔钱", audio, "zh")
    assert covers("是的", _speechlike(0.8), "zh")  # a short answer is never second-guessed
    assert not covers("yes", audio, "en") and covers("yes I will pay it next Friday", audio, "en")


def test_cer_normalises_script_and_numbers() -> None:
    assert cer("如有变化，可以拨打四零零，八零零，幺二三四。", "如有變化,可以撥打400-800-1234") == (0, 18)
    ref, hyp = normalise_pair("您有一笔一千二百三十四元五角的账单", "您有一筆1234.5元的帳單")
    assert hyp == ref
    edits, n = cer("请问您是张伟本人吗", "请问您是张维本人吗")
    assert (edits, n) == (1, 9)


def test_cer_ignores_the_case_of_latin_letters() -> None:
    assert cer("官方App上的客服电话", "官方APP上的客服电话") == (0, 11)


def test_homophone_cer_folds_only_the_same_syllable_and_tone() -> None:
    from agent.asr.zh_text import homophone_cer

    table = {"客": "ke4", "克": "ke4", "服": "fu2", "还": "huan2", "缓": "huan3", "款": "kuan3"}

    def read(text: str) -> list[str]:
        return [table.get(ch, ch) for ch in text]

    assert homophone_cer("客服", "克服", read) == (0, 2)  # kè fú either way
    assert cer("客服", "克服") == (1, 2)  # the plain CER still counts it
    assert homophone_cer("还款", "缓款", read) == (1, 2)  # huán heard as huǎn: a tone error
    assert homophone_cer("客服", "客", lambda t: ["?"]) == (1, 2)  # a reader miscounting: plain CER


class _WindowProbe:
    """A stand-in faster-whisper model that records how long a window the encoder was given."""

    def __init__(self) -> None:
        self.windows_s: list[float] = []
        self.model = self
        self.feature_extractor = self._features

    def _features(self, padded: np.ndarray) -> np.ndarray:
        self.windows_s.append(len(padded) / 16000)
        return np.zeros((80, len(padded) // 160), np.float32)

    def get_prompt(self, tokenizer: object, previous: list[int], without_timestamps: bool) -> list[int]:
        return [1]

    def generate(self, features: object, prompts: list[list[int]], **_: object) -> list[object]:
        from types import SimpleNamespace

        return [SimpleNamespace(sequences_ids=[[2]], scores=[-0.1], no_speech_prob=0.0)]


def _probed(window_min_s: float | None) -> tuple[object, _WindowProbe]:
    from types import SimpleNamespace

    from agent.asr.whisper import WhisperRecognizer

    rec = WhisperRecognizer.__new__(WhisperRecognizer)
    probe = _WindowProbe()
    rec.model = probe  # type: ignore[assignment]
    rec.tokenizer = SimpleNamespace(encode=lambda text: [3], decode=lambda ids: "好的")  # type: ignore[assignment]
    rec.window_min_s = window_min_s
    return rec, probe


def test_the_encoder_window_is_the_configured_minimum_or_the_speech_and_its_tail() -> None:
    from agent.asr import whisper

    rec, probe = _probed(4.0)
    rec._decode_window(np.zeros(int(1.5 * 16000), np.float32), None, 5)  # type: ignore[attr-defined]
    rec._decode_window(np.zeros(int(3.0 * 16000), np.float32), None, 5)  # type: ignore[attr-defined]
    assert probe.windows_s == [4.0, 3.0 + whisper.WINDOW_TAIL_S]
    default, probe = _probed(None)  # unset (en-US): the module's WINDOW_MIN_S
    default._decode_window(np.zeros(16000, np.float32), None, 1)  # type: ignore[attr-defined]
    assert probe.windows_s == [whisper.WINDOW_MIN_S]


def test_only_the_zh_recogniser_gets_the_configured_window(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path
    from types import SimpleNamespace

    from agent import engines

    built: dict[str, dict[str, object]] = {}

    def recogniser(path: Path, language: str, **kwargs: object) -> object:
        built[language] = kwargs
        return object()

    monkeypatch.setattr(engines, "resolve", lambda name, **_: SimpleNamespace(path=Path(name), name=name))
    monkeypatch.setattr(engines, "SileroVad", lambda path: object())
    monkeypatch.setattr(engines, "WhisperRecognizer", recogniser)
    monkeypatch.setattr(engines, "_load_tts", lambda model, **_: object())
    loaded = engines.Engines.load(["en-US", "zh-CN"], zh_asr_window_s=4.5)
    loaded.close()
    assert built["zh"]["window_min_s"] == 4.5
    assert built["en"]["window_min_s"] is None  # en-US keeps whisper.WINDOW_MIN_S
