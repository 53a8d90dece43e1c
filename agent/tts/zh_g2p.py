"""Mandarin text → Kokoro phonemes: jieba words, the finance lexicon first, then pypinyin, then IPA.

misaki[zh]'s own pipeline (the one Kokoro v1.0's Mandarin voices were trained with) is
jieba → pypinyin → misaki's pinyin-to-IPA; this module keeps that pipeline and puts the
reviewed lexicon (agent/tts/zh_lexicon.py) in front of pypinyin. A lexicon entry matches a
run of whole jieba words, or a part of one word, never a span that starts or ends inside a
word (so 行长 never fires inside 不行 长期).

`analyse` also reports where each reading came from, which the pronunciation linter uses.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import cn2an
import jieba
from misaki.zh import ZHG2P
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.seg.mmseg import seg as pypinyin_seg

from agent.tts.zh_lexicon import PronunciationLexicon

jieba.setLogLevel(logging.WARNING)

Source = Literal["lexicon", "character", "phrase-dict", "default"]

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_HAN_OR_LATIN = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z]+")
LETTER_NAMES: dict[str, tuple[str, ...]] = {
    "a": ("ei1",), "b": ("bi1",), "c": ("xi1",), "d": ("di1",), "e": ("yi1",), "f": ("ai2", "fu5"),
    "g": ("ji1",), "h": ("ai1", "qi1"), "i": ("ai1",), "j": ("zhei1",), "k": ("kei1",), "l": ("ai2", "lou5"),
    "m": ("ai2", "mu5"), "n": ("en1",), "o": ("ou1",), "p": ("pi1",), "q": ("kou1",), "r": ("a1", "er5"),
    "s": ("ai2", "si5"), "t": ("ti1",), "u": ("you1",), "v": ("wei1",), "w": ("da2", "bu5", "liu5"),
    "x": ("ai2", "ke5", "si5"), "y": ("wai1",), "z": ("zei1",),
}
"""Latin letters inside Mandarin text (App, ID, VIP) are spelled out with the letter names a
Mandarin speaker says (A ēi, P pī …). Given to the model raw, 'App' became the phonemes A p p
and the judge heard 也; spelled, it heard APP."""
_MAX_PHRASE_WORDS = 4
_INIT_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Reading:
    """One piece of Chinese text and its syllables (TONE3), with where the reading came from."""

    text: str
    syllables: tuple[str, ...]
    source: Source

    @property
    def polyphonic(self) -> bool:
        """A character of this piece has more than one reading in the dictionary."""
        return any(is_polyphonic(ch) for ch in self.text)


POLYPHONE_MIN_PHRASES = 3
POLYPHONE_MIN_SHARE = 0.015
"""A character is polyphonic when its second reading is used by at least this many dictionary
phrases and this share of the phrases holding it (服 fù in 2 of 167 phrases is not; 还 hái
in 15 of 118 is). pypinyin's per-character heteronym lists include rare and archaic readings
(金, 客 and 八 have several), which would flag nearly every word."""


@lru_cache(maxsize=1)
def _phrase_readings() -> dict[str, Counter[str]]:
    """Character → how often each reading occurs in pypinyin's phrase dictionary."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for word, readings in PHRASES_DICT.items():
        if len(word) == len(readings):
            for ch, options in zip(word, readings, strict=True):
                table[ch][options[0]] += 1
    return dict(table)


@lru_cache(maxsize=8192)
def is_polyphonic(ch: str) -> bool:
    """True when the character is read in more than one way in real dictionary words."""
    counts = _phrase_readings().get(ch)
    if counts is None or len(counts) < 2:
        return False
    second = counts.most_common(2)[1][1]
    return second >= POLYPHONE_MIN_PHRASES and second >= POLYPHONE_MIN_SHARE * sum(counts.values())


def _default(text: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


class MandarinG2P:
    """Thread-safe G2P for one lexicon (jieba's dictionary loads once, on first use)."""

    def __init__(self, lexicon: PronunciationLexicon) -> None:
        self.lexicon = lexicon
        self.fingerprint = f"zh-g2p-3:{lexicon.fingerprint}"

    @staticmethod
    def warm_up() -> None:
        """Load jieba's dictionary now rather than on the first sentence."""
        with _INIT_LOCK:
            jieba.initialize()

    # -- readings --------------------------------------------------------------------------

    def _within_word(self, word: str) -> Iterator[Reading]:
        """Readings for one jieba word: lexicon parts first (leftmost-longest), the rest by pypinyin."""
        lex = self.lexicon
        if word in lex.words:
            yield Reading(word, lex.words[word], "lexicon")
            return
        if len(word) == 1 and word in lex.characters:
            yield Reading(word, (lex.characters[word],), "character")
            return
        i, rest_start = 0, 0
        while i < len(word):
            hit = next(
                (word[i : i + n] for n in range(min(lex.longest, len(word) - i), 1, -1)
                 if word[i : i + n] in lex.words),
                None,
            )
            if hit is None:
                i += 1
                continue
            if rest_start < i:
                yield from self._dictionary(word[rest_start:i])
            yield Reading(hit, lex.words[hit], "lexicon")
            i += len(hit)
            rest_start = i
        if rest_start < len(word):
            yield from self._dictionary(word[rest_start:])

    def _dictionary(self, text: str) -> Iterator[Reading]:
        """pypinyin's reading of text, split the way pypinyin splits it, with each part's source."""
        if text in PHRASES_DICT and len(text) > 1:
            yield Reading(text, _default(text), "phrase-dict")
            return
        for part in pypinyin_seg.cut(text):
            if len(part) > 1 and part in PHRASES_DICT:
                yield Reading(part, _default(part), "phrase-dict")
            else:
                chars = self.lexicon.characters
                for ch in part:
                    if ch in chars:
                        yield Reading(ch, (chars[ch],), "character")
                    else:
                        yield Reading(ch, _default(ch), "default")

    def groups(self, han: str) -> list[list[Reading]]:
        """Readings for a run of Chinese characters, grouped by spoken word (jieba word or lexicon phrase)."""
        words = jieba.lcut(han, HMM=True)
        out: list[list[Reading]] = []
        k = 0
        while k < len(words):
            for m in range(min(_MAX_PHRASE_WORDS, len(words) - k), 1, -1):
                phrase = "".join(words[k : k + m])
                if phrase in self.lexicon.words:
                    out.append([Reading(phrase, self.lexicon.words[phrase], "lexicon")])
                    k += m
                    break
            else:
                out.append(list(self._within_word(words[k])))
                k += 1
        return out

    def spoken_groups(self, han: str) -> list[list[Reading]]:
        """`groups` with the tone changes of 不 and 一 applied (`tone_sandhi`): what the voice says."""
        return tone_sandhi(self.groups(han))

    def readings(self, han: str) -> list[Reading]:
        """Readings for a run of Chinese characters (no punctuation or digits)."""
        return [r for group in self.spoken_groups(han) for r in group]

    def analyse(self, text: str) -> list[Reading]:
        """Every Chinese piece of `text` with its reading (numbers read out first, as spoken)."""
        spoken = cn2an.transform(text, "an2cn")
        return [r for run in _HAN.findall(spoken) for r in self.readings(run)]

    # -- phonemes --------------------------------------------------------------------------

    def phonemes(self, text: str) -> str:
        """Kokoro's phoneme string for text: IPA words with tone arrows, punctuation kept."""
        if not text.strip():
            return ""
        spoken = ZHG2P.map_punctuation(cn2an.transform(text, "an2cn"))
        out: list[str] = []
        pos = 0
        for m in _HAN_OR_LATIN.finditer(spoken):
            out.append(spoken[pos : m.start()])
            if m.group()[0].isascii():
                out.append(" " + " ".join(_ipa(LETTER_NAMES[c]) for c in m.group().lower()) + " ")
            else:
                words = self.spoken_groups(m.group())
                out.append(" ".join("".join(_ipa(r.syllables) for r in g) for g in words))
            pos = m.end()
        out.append(spoken[pos:])
        joined = "".join(out).replace(chr(815), "")
        return re.sub(r" +(?=[,.!?:;])", "", re.sub(r" {2,}", " ", joined)).strip()


_NUMERALS = set("零一二三四五六七八九十两幺")
_NOT_AFTER_YI = set("月日号")
"""一 keeps yī before these (一月 yī yuè, 一日, 一号: dates and ordinals, not counts)."""
_PLACE_VALUES = set("百千万亿")


def tone_sandhi(groups: list[list[Reading]]) -> list[list[Reading]]:
    """The tone changes of 不 and 一 that every Mandarin speaker makes, as the dictionary states them.

    - 不 bù before a fourth tone is bú (不再 bú zài, 不是 bú shì); elsewhere bù.
    - 一 yī as a count, before a fourth tone is yí (一个 yí gè, 一万 yí wàn), before any other
      tone yì (一笔 yì bǐ, 一千 yì qiān). It stays yī at the end of a word (统一, 第一), after a
      numeral or 第 (十一, 二十一), before another numeral (一二三四) and before 月/日/号.
    A syllable the lexicon or the phrase dictionary already gives another tone (一遍 yí biàn,
    听不到 bu5) is not touched: only bu4 and yi1 change. The third-tone sandhi (可以 kéyǐ) is
    left to the model, which was trained on unsandhied third tones and makes it itself.
    """
    if any(len(r.syllables) != len(r.text) for g in groups for r in g):
        return groups  # a reading not one syllable a character (never from the lexicon): leave it as it is
    flat = [(gi, ri, k, ch)
            for gi, g in enumerate(groups) for ri, r in enumerate(g) for k, ch in enumerate(r.text)]
    syllables = [groups[gi][ri].syllables[k] for gi, ri, k, _ in flat]
    changed = list(syllables)
    for i, (gi, _ri, _k, ch) in enumerate(flat):
        if i + 1 >= len(flat):
            break
        nxt_ch, nxt_tone = flat[i + 1][3], syllables[i + 1][-1]
        if ch == "不" and syllables[i] == "bu4" and nxt_tone == "4":
            changed[i] = "bu2"
        elif ch == "一" and syllables[i] == "yi1":
            prev_ch = flat[i - 1][3] if i > 0 else ""
            word_end = flat[i + 1][0] != gi and len("".join(r.text for r in groups[gi])) > 1
            count = nxt_ch in _PLACE_VALUES or nxt_ch not in _NUMERALS
            if count and not word_end and nxt_ch not in _NOT_AFTER_YI and prev_ch not in _NUMERALS | {"第"}:
                changed[i] = "yi2" if nxt_tone == "4" else "yi4"
    if changed == syllables:
        return groups
    it = iter(changed)
    return [[Reading(r.text, tuple(next(it) for _ in r.text), r.source) for r in g] for g in groups]


def _ipa(syllables: tuple[str, ...]) -> str:
    return "".join(ZHG2P.py2ipa(s) for s in syllables)
