"""Chinese transcript text: Traditional → Simplified (OpenCC), and the normalisation CER is scored on.

Whisper's multilingual models answer Mandarin in Traditional characters about half the
time; every zh-CN transcript goes through OpenCC's `t2s` conversion (dictionaries ship in
the `opencc` wheel, no download) before NLU sees it.

Scoring (`cer`): both texts are converted to Simplified, punctuation and spaces removed,
the variants 帐/账 and 幺/一, 两/二 folded, digit groups joined (400-800-1234 → 4008001234),
and each Arabic number in either text is read out in Chinese, as a cardinal
(1234.5 → 一千二百三十四点五, 1234.5元 also as 一千二百三十四元五角) or digit by digit
(400 → 四零零), whichever is closer to the other text. Latin letters are compared without
case (App and APP are the same speech).

`homophone_cer` is a second, looser figure for judging a voice, never a replacement for
`cer`: characters that are read with the same syllable and tone count as equal (客服 and
克服 are both kè fú, 核实 and 何时 both hé shí). Whisper picks the commoner homophone from
its language model; no voice can say 客服 so that it is not heard as 克服. A tone or a
syllable heard differently (还 huán → 缓 huǎn, 已为 yǐ wèi → 以为 yǐ wéi) still counts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache

import cn2an
import opencc

_LOCK = threading.Lock()
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MONEY = re.compile(r"\d+\.\d元")
_DIGIT_GROUPS = re.compile(r"\d+(?:[-.\s]\d+){2,}")
"""Three or more digit groups joined by - . or spaces (4-0-080-01234): a number read digit by digit."""
_DIGITS = "零一二三四五六七八九"
_FOLD = str.maketrans({"帐": "账", "幺": "一", "两": "二", "〇": "零"})


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional (or mixed) Chinese → Simplified with OpenCC's phrase-aware t2s conversion."""
    if not text:
        return text
    with _LOCK:  # the converter object is not documented as thread-safe
        return str(_converter().convert(text))


def _readings(number: str) -> list[str]:
    digit_by_digit = "".join(_DIGITS[int(d)] if d.isdigit() else "点" for d in number)
    try:
        cardinal = str(cn2an.an2cn(number, "low"))
    except (ValueError, KeyError):
        return [digit_by_digit]
    return [cardinal, digit_by_digit]


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two strings or two token lists (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _strip(text: str) -> str:
    return _PUNCT.sub("", text).translate(_FOLD).lower()


def _spell_numbers(text: str, against: str) -> str:
    """Replace each Arabic number by its Chinese reading closest to `against` (already stripped)."""
    out = text
    for m in sorted(set(_MONEY.findall(text)), key=len, reverse=True):
        whole, tenth = m[:-1].split(".")
        options = [o + "元" for o in _readings(m[:-1])]
        options.append(f"{_readings(whole)[0]}元{_DIGITS[int(tenth)]}角")
        best = min(options, key=lambda o: edit_distance(_strip(out.replace(m, o)), against))
        out = out.replace(m, best)
    for number in sorted(set(_NUMBER.findall(out)), key=len, reverse=True):
        options = _readings(number)
        best = min(options, key=lambda o: edit_distance(_strip(out.replace(number, o)), against))
        out = out.replace(number, best)
    return out


def _join_groups(text: str) -> str:
    return _DIGIT_GROUPS.sub(lambda m: re.sub(r"[-.\s]", "", m.group()), text)


def normalise_pair(reference: str, hypothesis: str) -> tuple[str, str]:
    """Both texts as scored: Simplified, numbers spoken, no punctuation, variants folded."""
    ref, hyp = _join_groups(to_simplified(reference)), _join_groups(to_simplified(hypothesis))
    ref_out = _strip(_spell_numbers(ref, _strip(hyp)))
    return ref_out, _strip(_spell_numbers(hyp, ref_out))


def cer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(character edits, reference characters) after `normalise_pair`."""
    ref, hyp = normalise_pair(reference, hypothesis)
    return edit_distance(ref, hyp), len(ref)


def homophone_cer(reference: str, hypothesis: str, read: Callable[[str], Sequence[str]]) -> tuple[int, int]:
    """(edits, reference characters) after `normalise_pair`, characters compared by their reading.

    `read` gives one token per character of a normalised text (the toned syllable of a Chinese
    character in its context, the character itself otherwise); a reader that returns another
    count is not trusted and the characters are compared as they are.
    """
    ref, hyp = normalise_pair(reference, hypothesis)
    ref_tokens, hyp_tokens = read(ref), read(hyp)
    if len(ref_tokens) != len(ref) or len(hyp_tokens) != len(hyp):
        return edit_distance(ref, hyp), len(ref)
    return edit_distance(ref_tokens, hyp_tokens), len(ref)
