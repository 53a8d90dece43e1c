"""The finance pronunciation lexicon and the Mandarin G2P: lending polyphones, alone and in context."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.tts.zh_g2p import MandarinG2P, is_polyphonic
from agent.tts.zh_lexicon import LexiconError, PronunciationLexicon, tone3


@pytest.fixture(scope="module")
def g2p() -> MandarinG2P:
    return MandarinG2P(PronunciationLexicon.load())


def reading(g2p: MandarinG2P, text: str, piece: str) -> str:
    """The syllables the voice says for `piece` inside `text` (spaces between syllables)."""
    syllables: list[str] = []
    chars = ""
    for r in g2p.analyse(text):
        syllables += r.syllables
        chars += r.text
    start = chars.index(piece)
    return " ".join(syllables[start : start + len(piece)])


@pytest.mark.parametrize(
    ("text", "piece", "expected"),
    [
        ("还款", "还款", "huan2 kuan3"),
        ("您的还款日是十五号", "还款", "huan2 kuan3"),
        ("请问您能在到期前还上吗", "还", "huan2"),
        ("我已经还了", "还", "huan2"),
        ("我还没还", "还没还", "hai2 mei2 huan2"),
        ("还是下周吧", "还", "hai2"),
        ("您还有一笔欠款", "还", "hai2"),
        ("提前还款没有罚息", "还款", "huan2 kuan3"),
        ("欠款已经还清", "还清", "huan2 qing1"),
        ("请到银行办理", "银行", "yin2 hang2"),
        ("银行行长", "银行行长", "yin2 hang2 hang2 zhang3"),
        ("现在不行长期分期可以", "不行", "bu4 xing2"),
        ("现在不行长期分期可以", "长期", "chang2 qi1"),
        ("利率是多少", "率", "lv4"),
        ("年化利率", "利率", "li4 lv4"),
        ("额度已经调整", "调整", "tiao2 zheng3"),
        ("我们会调查这笔交易", "调", "diao4"),
        ("请重新确认", "重", "chong2"),
        ("这很重要", "重", "zhong4"),
        ("可以分期吗", "分期", "fen1 qi1"),
        ("部分还款", "部分", "bu4 fen5"),
        ("账单已经逾期三天", "逾期", "yu2 qi1"),
        ("到期当天还款", "当天", "dang4 tian1"),
        ("一千二百三十四元五角", "角", "jiao3"),
        ("您的本期账单金额为一千元", "为", "wei2"),
    ],
)
def test_lending_polyphones(g2p: MandarinG2P, text: str, piece: str, expected: str) -> None:
    assert reading(g2p, text, piece) == expected


def test_the_dictionary_alone_gets_huankuan_wrong() -> None:
    """Why the lexicon exists: pypinyin reads 还款 as hái kuǎn."""
    bare = MandarinG2P(PronunciationLexicon.empty())
    assert reading(bare, "请按时还款", "还款") == "hai2 kuan3"


def test_a_lexicon_phrase_never_matches_inside_a_word(g2p: MandarinG2P) -> None:
    sources = {r.text: r.source for r in g2p.analyse("不行长期")}
    assert "行长" not in sources


def test_polyphones_are_real_ones() -> None:
    for ch in "还行重调率分得长":
        assert is_polyphonic(ch), ch
    for ch in "金客服我您款":  # pypinyin lists rare readings for some of these; real words use one
        assert not is_polyphonic(ch), ch


def test_phonemes_are_kokoro_ipa_with_tones(g2p: MandarinG2P) -> None:
    ph = g2p.phonemes("请按时还款，谢谢。")
    assert "xwa↗nkʰwa↓n" in ph  # huán kuǎn
    assert ph.endswith(".") and "," in ph
    assert g2p.phonemes("  ") == ""


def test_digits_are_read_as_numbers(g2p: MandarinG2P) -> None:
    assert reading(g2p, "按9", "九") == "jiu3"


def test_tone3_conversion() -> None:
    assert [tone3(s) for s in ("huán", "lǜ", "de", "Zhǎng")] == ["huan2", "lv4", "de5", "zhang3"]


def test_lexicon_errors_name_the_entry(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="one syllable per character"):
        PronunciationLexicon.from_mapping({"words": {"还款": "huán"}})
    with pytest.raises(LexiconError, match="needs a reading"):
        PronunciationLexicon.from_mapping({"words": {"还款": ""}})
    with pytest.raises(LexiconError, match="not one character"):
        PronunciationLexicon.from_mapping({"characters": {"还款": "huán kuǎn"}})
    bad = tmp_path / "pronunciation.yaml"
    bad.write_text("words: [", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid YAML"):
        PronunciationLexicon.load(bad)


def test_fingerprint_follows_the_readings() -> None:
    a = PronunciationLexicon.from_mapping({"words": {"还款": "huán kuǎn"}})
    b = PronunciationLexicon.from_mapping({"words": {"还款": "hái kuǎn"}})
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == PronunciationLexicon.from_mapping({"words": {"还款": "huán kuǎn"}}).fingerprint


def test_shipped_lexicon_is_valid_and_covers_the_lending_words() -> None:
    lex = PronunciationLexicon.load()
    for word in ("还款", "还清", "欠款", "银行", "行长", "利率", "额度", "分期", "逾期", "调整", "重新"):
        assert word in lex.words, word


def test_latin_letters_are_spelled_with_mandarin_letter_names(g2p: MandarinG2P) -> None:
    from agent.tts.zh_g2p import LETTER_NAMES, _ipa

    spelled = " ".join(_ipa(LETTER_NAMES[c]) for c in "app").replace(chr(815), "")
    assert spelled in g2p.phonemes("官方App上的客服") and spelled in g2p.phonemes("官方APP上的客服")
    assert "A" not in g2p.phonemes("官方App上的客服")  # never the raw letters
    assert g2p.phonemes("请用App，好的。").count(" ,") == 0  # no space before the pause mark
    assert set(LETTER_NAMES) == set("abcdefghijklmnopqrstuvwxyz")


@pytest.mark.parametrize(
    ("text", "piece", "expected"),
    [
        ("以后不再给您打电话", "不再", "bu2 zai4"),  # 不 before a fourth tone
        ("不是真人", "不是", "bu2 shi4"),
        ("您不希望", "不", "bu4"),  # before a first tone: unchanged
        ("不打扰您了", "不", "bu4"),
        ("您有一笔账单", "一笔", "yi4 bi3"),  # 一 as a count: yì before tones 1-3
        ("一千二百三十四元五角", "一千", "yi4 qian1"),
        ("三万一千元", "一千", "yi4 qian1"),
        ("一万元", "一万", "yi2 wan4"),  # yí before a fourth tone
        ("告诉您一个好消息", "一个", "yi2 ge4"),
        ("第一次", "第一", "di4 yi1"),  # ordinal
        ("二十一天", "一", "yi1"),  # after a numeral
        ("一二三四", "一二", "yi1 er4"),  # digits read out
        ("统一管理", "统一", "tong3 yi1"),  # word-final
        ("我再说一遍", "一遍", "yi2 bian4"),  # the lexicon's reading kept
    ],
)
def test_tone_sandhi_of_bu_and_yi(g2p: MandarinG2P, text: str, piece: str, expected: str) -> None:
    assert reading(g2p, text, piece) == expected


def test_sandhi_reaches_the_phonemes(g2p: MandarinG2P) -> None:
    assert "pu↗" in g2p.phonemes("不再打扰")
    assert "pu↘" in g2p.phonemes("不希望")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("谢谢", "xie4 xie5"), ("告诉", "gao4 su5"), ("麻烦", "ma2 fan5"),
     ("商量", "shang1 liang5"), ("还是", "hai2 shi5")],  # 商量, 还是: CC-CEDICT's neutral tones (audit)
)
def test_neutral_tones_of_the_scripts_words(g2p: MandarinG2P, word: str, expected: str) -> None:
    assert reading(g2p, f"{word}您", word) == expected
