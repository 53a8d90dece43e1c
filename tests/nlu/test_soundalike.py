# ruff: noqa: E501
"""ASR sound-alikes of key opt-out words (agent/nlu/soundalike.py), on generated phrasings (rules only).

zh-CN: every generated opt-out phrasing with any one character replaced by a homophone (the
same toneless pinyin, taken from pypinyin's own dictionary) still fires; so does one with a
near-homophone (zh/z, n/l, -ing/-in ...) in a word of contacting. Hard negatives stay quiet
with any one character replaced. en-US: cessation/negation x sound-alikes of "call(ing)" x
objects fire as a doubt; real words with a similar skeleton (close, cold, worrying) do not.
Precedence: "no need to call back" is an opt-out, "call me later" a callback wish.
"""

from __future__ import annotations

from functools import cache
from itertools import product
from pathlib import Path

from agent.nlu.intents import OPT_OUT_CERTAIN
from agent.nlu.rules import RuleNlu
from agent.nlu.soundalike import SoundAlike, en_key, zh_key, zh_syllables

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@cache
def nlu(locale: str) -> RuleNlu:
    return RuleNlu.from_file(PROMPTS / locale / "nlu.yaml")


@cache
def homophones() -> dict[str, list[str]]:
    """Toneless syllable -> characters with that one reading only (pypinyin's dictionary)."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.constants import PINYIN_DICT

    out: dict[str, list[str]] = {}
    for code, readings in sorted(PINYIN_DICT.items()):
        if not 0x4E00 <= code <= 0x9FFF or "," in readings:
            continue
        plain = lazy_pinyin(chr(code), style=Style.NORMAL)[0].replace("ü", "v")
        out.setdefault(plain, []).append(chr(code))
    return out


def homophone_variants(text: str, keep: str = "我给了") -> list[str]:
    """`text` with each Han character in turn (not the function words in `keep`) replaced by another read the same."""
    out = []
    for index, syllable in zh_syllables(text):
        if text[index] in keep:
            continue
        others = [c for c in homophones().get(syllable, []) if c != text[index]]
        if others:
            out.append(text[:index] + others[len(text) % len(others)] + text[index + 1 :])
    return out


def _wrong(locale: str, texts: list[str], *, opt_out: bool) -> list[tuple[str, str]]:
    return [(t, r.intent) for t in texts if ((r := nlu(locale).classify(t)).intent == "opt_out") != opt_out]


ZH_NEG = ["别", "不要", "别再", "不要再", "请勿", "不用再", "以后别", "请不要再"]
ZH_CONTACT = ["打电话", "打来", "来电", "致电", "联系我", "骚扰我", "打扰我", "打给我", "打电话给我", "打我电话"]
ZH_TERMS = ["免打扰", "帮我设置免打扰", "把我拉黑", "把我加入黑名单", "退订电话提醒", "拒接来电", "加入拒呼名单", "别打了", "不要打了"]


def zh_opt_outs() -> list[str]:
    return [f"{n}{c}{e}" for n, c, e in product(ZH_NEG, ZH_CONTACT, ["", "了"])] + ZH_TERMS


def test_zh_generated_opt_outs_fire_before_any_garble() -> None:
    assert not _wrong("zh-CN", zh_opt_outs(), opt_out=True)


def test_zh_one_homophone_anywhere_still_fires() -> None:
    texts = [v for t in zh_opt_outs() for v in homophone_variants(t)]
    assert len(texts) > 300
    wrong = _wrong("zh-CN", texts, opt_out=True)
    assert not wrong, f"{len(wrong)} of {len(texts)} missed, e.g. {wrong[:8]}"


def test_zh_near_homophones_of_contact_words_fire_at_least_as_a_doubt() -> None:
    garbled = {"打电话": ["打电华", "答电话", "打垫话"], "骚扰": ["烧扰", "骚老"], "免打扰": ["免打老", "面打扰", "免达扰"],
               "联系": ["连系", "联喜"], "来电": ["来店", "耐电"], "拉黑": ["那黑", "拉嘿"]}
    texts = []
    for word, heard in garbled.items():
        for t in zh_opt_outs():
            if word in t:
                texts += [t.replace(word, h, 1) for h in heard]
    assert len(texts) > 100
    wrong = _wrong("zh-CN", texts, opt_out=True)
    assert not wrong, f"{len(wrong)} of {len(texts)} missed, e.g. {wrong[:8]}"


_ONSETS = ("mnlr", "bdg", "ptk")


def onset_variants(text: str, first_only: bool = False) -> list[str]:
    """`text` with a Han character (each in turn, or only the first of a word) replaced by one
    read with the same final and another initial of its narrowband class (m/n/l/r, b/d/g, p/t/k)."""
    out = []
    for index, syllable in zh_syllables(text)[:1] if first_only else zh_syllables(text):
        head, final = syllable[:1], syllable[1:]
        if syllable[:2] in ("zh", "ch", "sh") or not any(head in k for k in _ONSETS):
            continue
        near = [c + final for k in _ONSETS if head in k for c in k if c != head]
        others = [ch for s in near for ch in homophones().get(s, []) if ch != text[index]]
        if others:
            out.append(text[:index] + others[len(text) % len(others)] + text[index + 1 :])
    return out


ZH_ONSET_TERMS = ["免打扰", "设置免打扰", "帮我设置免打扰", "开免打扰", "把我加到免打扰名单", "骚扰电话别打了"]


def test_zh_a_blurred_onset_of_a_long_key_word_fires_at_least_as_a_doubt() -> None:
    """The first syllable of a 3+ syllable key word heard with a near initial ("黏打扰"): a doubt at least."""
    texts = [v for t in ZH_ONSET_TERMS for v in onset_variants(t, first_only=True)]
    assert len(texts) >= 4
    assert not _wrong("zh-CN", texts, opt_out=True)
    far = nlu("zh-CN").classify("我需要打电话给银行")  # x is no near initial of b: 不要 is not repaired
    assert far.intent != "opt_out"


ZH_HARD_NEGATIVES = ["停一下", "别挂", "别挂我马上还", "晚点再打", "现在别打，晚上再打", "我等会儿打给你", "别急，我在找",
                     "别说了，我马上去还", "不要大意", "别发了，我已经登录了", "打错了", "你们是哪家公司", "我这个月还不上",
                     "别催了我没钱", "下午再打给我", "你是机器人吗", "我在开车，等会再打"]


def test_zh_hard_negatives_stay_quiet_with_any_one_homophone() -> None:
    texts = ZH_HARD_NEGATIVES + [v for t in ZH_HARD_NEGATIVES for v in homophone_variants(t)]
    texts += [v for t in ZH_HARD_NEGATIVES for v in onset_variants(t)]
    wrong = _wrong("zh-CN", texts, opt_out=False)
    assert not wrong, f"{len(wrong)} of {len(texts)} fired, e.g. {wrong[:8]}"


def test_zh_one_character_negators_are_repaired_only_before_a_word_of_contacting() -> None:
    for head, rest in product(["稍", "捎", "爹", "跌", "憋"], ["给我打电话", "打了", "来电了", "联系我了"]):
        text = f"你们{head}{rest}" if head in "稍捎" else f"{head}{rest}"
        r = nlu("zh-CN").classify(text)
        assert r.intent == "opt_out" and (r.doubtful or head == "憋"), (text, r)  # 憋打了 = 别打了, a pure homophone
    for text in ["我爹打了我一顿", "他爹打电话给我了", "稍等，我打电话给你", "爹，我在开车", "跌了一跤"]:
        assert nlu("zh-CN").classify(text).intent != "opt_out", text


def test_zh_a_pure_homophone_of_a_long_word_is_certain_a_near_one_a_doubt() -> None:
    assert nlu("zh-CN").classify("不要再大电话了").confidence >= OPT_OUT_CERTAIN
    near = nlu("zh-CN").classify("把我那黑")
    assert near.intent == "opt_out" and near.doubtful


def test_zh_keys_merge_near_homophones_only() -> None:
    assert zh_key("shi") == zh_key("si") and zh_key("ning") == zh_key("lin") and zh_key("rao") == zh_key("lao")
    assert zh_key("da") != zh_key("ta") and zh_key("bie") != zh_key("pie")
    sounds = SoundAlike(["打电话", "免打扰"], cjk=True)
    assert [r.word for r in sounds.repairs("别大电话")] == ["打电话"]
    assert sounds.repairs("别打电话") == []  # nothing to repair
    assert [r.word for r in sounds.repairs("设个免大扰")] == ["免打扰"]
    assert sounds.repairs("免，打扰") == []  # never across punctuation


EN_CEASE = ["stop", "please stop", "quit", "you need to stop", "can you stop"]
EN_NEG = ["don't", "do not", "never", "please don't", "please never"]
EN_CALLING = ["colin", "column", "collin", "kolin", "cawlin", "calin"]
EN_CALL = ["coal", "cole", "kohl", "caul", "col", "cal"]
EN_OBJECTS = ["me", "this number", "us", "here"]
EN_TAILS = ["", " again", " anymore", " please"]


def test_en_sound_alikes_of_calling_fire_at_least_as_a_doubt() -> None:
    texts = [f"{c} {v} {o}{t}" for c, v, o, t in product(EN_CEASE, EN_CALLING, EN_OBJECTS, EN_TAILS)]
    texts += [f"{n} {v} {o}{t}" for n, v, o, t in product(EN_NEG, EN_CALL, EN_OBJECTS, EN_TAILS)]
    wrong = _wrong("en-US", texts, opt_out=True)
    assert not wrong, f"{len(wrong)} of {len(texts)} missed, e.g. {wrong[:8]}"
    assert nlu("en-US").classify("don't coal me again").doubtful


def test_en_real_words_that_sound_close_stay_quiet() -> None:
    texts = ["stop worrying", "don't close my account", "don't cancel my card", "stop, let me get a pen",
             "I'll call you back", "stop cleaning", "don't raise my limit", "don't kill me with fees", "never mind",
             "don't run away with my money", "stop complaining", "don't tell my wife", "don't go", "stop talking",
             "don't cool down", "I don't find it", "stop, fine, go on", "don't collect twice"]
    wrong = _wrong("en-US", texts, opt_out=False)
    assert not wrong, wrong
    assert en_key("calling") == en_key("colin") == en_key("column")
    assert en_key("call") == en_key("coal") and en_key("ring") != en_key("worrying")


def test_no_need_to_call_again_is_an_opt_out_a_time_keeps_it_a_callback() -> None:
    opt = [f"{f}{p}{t}" for f, p, t in product(["", "look, ", "honestly "],
           ["no need to call back", "no need to call me back", "there is no need to call me again", "you needn't call again",
            "no point calling again", "no need for another call", "don't bother calling again", "don't bother ringing back",
            "you don't need to call me back anymore"], ["", ", I'll pay", ", I found it", ", thanks"])]
    assert not _wrong("en-US", opt, opt_out=True)
    for text in ["call me later", "call me tomorrow", "don't call before 9", "don't call me before 9", "call me back after 5",
                 "no need to call back tomorrow", "no need to call back, just tell me now", "don't call me now, call me tomorrow"]:
        assert nlu("en-US").classify(text).intent == "callback_later", text
    zh_opt = [f"{p}{t}" for p, t in product(["不用再打来了", "以后别打了", "不用回电了", "没必要回电了", "别回电话了", "不用打回来了",
                                              "以后用不着再给我回电话了"], ["", "，我自己会还", "，钱我会还的", "，谢谢"])]
    assert not _wrong("zh-CN", zh_opt, opt_out=True)
    for text in ["晚点再打", "下午再打吧", "现在别打，晚点再打", "我在开车，等会再打", "不用回拨了，你现在就说吧"]:
        assert nlu("zh-CN").classify(text).intent != "opt_out", text


def test_a_time_followed_by_a_universal_or_too_is_no_limit() -> None:
    en = [f"{n} {v} me {t}{u}" for n, v, t, u in product(["don't", "please don't", "never"], ["call", "ring", "phone"],
          ["later", "tomorrow", "at work", "in the morning"], [" or ever", ", or ever", " or any other day", " or at all, ever again"])]
    assert not _wrong("en-US", en, opt_out=True)
    zh = [f"{t}{y}{n}{v}{e}" for t, y, n, v, e in product(["晚点", "改天", "明天", "等会儿", "以后", "下次"], ["也", "你们也"],
          ["别", "不要", "不用"], ["打了", "打电话了", "联系我了", "来电"], ["", "，我自己会还"])]
    zh += [f"不用{t}再打了" for t in ["晚点", "明天", "改天", "回头", "下次"]]
    assert not _wrong("zh-CN", zh, opt_out=True)
    assert not _wrong("en-US", [f"{c} {v} {n}" for c, v, n in product(["stop", "please stop", "quit"],
                      ["calling me", "the calls", "ringing this number"], ["now", "right now", "now please"])], opt_out=True)
    for text in ["don't call me before 9", "don't call me now, call me tomorrow", "call me tomorrow or any time after"]:
        assert nlu("en-US").classify(text).intent == "callback_later", text
    for heard in ["下午再打？不用了，以后都别打了", "下午再打不用了以后都别打了", "晚点再打吧不用了别再打了"]:  # ASR drops the marks
        assert nlu("zh-CN").classify(heard).intent == "opt_out", heard
    for text in ["现在也别打，晚上再打", "今天别打了明天再说", "不用晚点再打，你现在说吧", "上班时间别打，下班再打"]:
        assert nlu("zh-CN").classify(text).intent != "opt_out", text
