"""Sound-alike repair of key opt-out words mangled by the recogniser (SPEC 6.2a, issue 10).

On a telephone line the ASR often writes a key word with a homophone or a near-homophone
("别大电话", "塑制免饶", "stop colin me", "don't coal me"). The structural detector
(`agent.nlu.optout`) matches characters and words, so it would miss them. This module maps
a sentence to a phonetic key string and finds windows whose key equals the key of a word of
the detector's own vocabularies; the caller substitutes the word and runs the same detector
(with all its limiters, vetoes and `unless` clauses) on the repaired sentence.

- zh-CN: toneless pinyin (pypinyin, in context), near-homophones merged (zh/z, ch/c, sh/s,
  n/l, r/l, f/h initials; -ing/-in, -eng/-en, -ang/-an, -iang/-ian, -uang/-uan finals). In a
  word of three syllables one inner syllable may have another final ("别得了" for 别打了), in
  a longer one another initial or another final ("设置免饶" for 设置免扰: not "设置粘饶"). In a
  word of three or more syllables the first may have a near initial of the same class (m/n/l,
  b/d/g, p/t/k: what a narrowband line blurs at a word's onset) with the same final ("黏打扰"
  for 免打扰; not "需要打电话" for 不要打电话).
- en-US: a small consonant-skeleton key per word (c/k/q -> K, ph -> F, the first letter
  kept and the other vowels, h, w, y dropped, doubles collapsed, -ing/-in/-en/-on/-un/-an/
  -umn endings -> N), whole words
  only, for words of contacting and cessation; a word listed as a real word that is not a
  mis-hearing (close, cold, ...) is never repaired.

A repair is `exact` when the heard window has the very pronunciation of the word (a pure
homophone: the same toneless pinyin), else near (every English repair is near). Pure:
no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Repair", "SoundAlike", "apply", "en_key", "zh_key", "zh_syllables"]

_HANZI = re.compile(r"[\u3400-\u9fff]")
_INITIALS = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw")
_MERGE_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l", "f": "h"}
_MERGE_FINAL = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


@dataclass(frozen=True, slots=True)
class Repair:
    """One window replaced by a vocabulary word: [start, end) in the sentence, and how close it was."""

    start: int
    end: int
    word: str
    exact: bool


def _split_syllable(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def zh_key(syllable: str) -> str:
    """A toneless pinyin syllable with near-homophones merged ("shi" and "si" -> "si")."""
    initial, final = _split_syllable(syllable)
    initial = _MERGE_INITIAL.get(initial, initial)
    for long, short in _MERGE_FINAL:
        if final.endswith(long):
            final = final[: -len(long)] + short
            break
    return initial + final


@lru_cache(maxsize=4096)
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))  # `text` is all Han characters


def zh_syllables(text: str) -> list[tuple[int, str]]:
    """(character index, toneless syllable) for every Han character of `text`, read in context."""
    out: list[tuple[int, str]] = []
    for run in re.finditer(r"[\u3400-\u9fff]+", text):
        syllables = _pinyin(run.group(0))
        if len(syllables) != len(run.group(0)):  # pypinyin keeps one item a character; be safe
            continue
        out += [(run.start() + i, s.replace("ü", "v")) for i, s in enumerate(syllables)]
    return out


_EN_ENDING = re.compile(r"(?:ing|in|en|on|un|an|umn|one)$")


def en_key(word: str) -> str:
    """A consonant skeleton of one English word ("calling", "colin" and "column" -> "KLN")."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return ""
    ending = "N" if len(w) > 3 and _EN_ENDING.search(w) else ""
    if ending:
        w = _EN_ENDING.sub("", w)
    w = w.replace("ph", "f").replace("ck", "k").replace("gh", "").replace("wh", "w")
    w = re.sub(r"c(?=[eiy])", "s", w)
    w = w.replace("c", "k").replace("q", "k").replace("x", "ks")
    skeleton = w[0] + re.sub(r"[aeiouyhw]", "", w[1:])  # the first letter stays, as in Soundex
    return re.sub(r"(.)\1+", r"\1", skeleton.upper()) + ending


def _head_key(syllable: str) -> str:
    """A one-character head's key: near-homophones merged, and the unaspirated stops b/d (they
    blur on a narrowband line: "爹打了" for 别打了); only ever used right before a contact word."""
    key = zh_key(syllable)
    return "d" + key[1:] if key.startswith("b") else key


def _half_right(heard: str, meant: str, strict: bool) -> bool:
    """Whether two (merged) syllables share their initial, or (not strict) their final ("zhan"/"mian": no)."""
    (a, b), (c, d) = _split_syllable(heard), _split_syllable(meant)
    return (a == c and bool(a)) or (not strict and b == d)


_ONSET_CLASSES = ({"m", "l"}, {"b", "d", "g"}, {"p", "t", "k"})
"""Initials (after the zh_key merges: n, r -> l) a narrowband line blurs at the start of a word:
the nasals and liquids, the unaspirated stops, the aspirated stops (place of articulation is
what 8 kHz mu-law smears; voicing and aspiration survive)."""


def _blurred_onset(heard: str, meant: str) -> bool:
    """Whether a word's first (merged) syllable was heard with the same final and a near initial
    ("黏打扰" for 免打扰: nian/mian); a different final, or a far initial ("需要" for 不要), is no."""
    (a, b), (c, d) = _split_syllable(heard), _split_syllable(meant)
    return b == d and a != c and any(a in k and c in k for k in _ONSET_CLASSES)


class SoundAlike:
    """Finds windows of a normalised sentence that sound like a word of the given vocabulary."""

    def __init__(
        self,
        words: Iterable[str],
        *,
        cjk: bool,
        never: Iterable[str] = (),
        heads: Iterable[str] = (),
        heads_before: re.Pattern[str] | None = None,
        heads_after: re.Pattern[str] | None = None,
        reach: int = 8,
    ) -> None:
        """`heads`: one-character zh words (别, 少) repaired from a near-homophone (b/d merged too)
        only when `heads_before` matches within `reach` characters after them ("稍给我打电话")
        and `heads_after` (if given) matches the text before them ("我爹打了我" is no "别打了")."""
        self.cjk = cjk
        self._heads = {_head_key(s): w for w in heads if len(w) == 1 and cjk for _, s in zh_syllables(w)}
        self._head_words = frozenset(self._heads.values())
        self._heads_before = heads_before
        self._heads_after = heads_after
        self._reach = reach
        self._never = frozenset(w.strip().lower() for w in never if w.strip())
        entries: dict[tuple[str, ...], str] = {}
        exact: dict[tuple[str, ...], set[str]] = {}
        for word in sorted({w.strip() for w in words if w.strip()}, key=lambda w: (-len(w), w)):  # stable
            for key, plain in self._keys(word):
                entries.setdefault(key, word)
                if plain:
                    exact.setdefault(key, set()).add(word)
        self._entries = entries
        self._words = frozenset(entries.values()) | frozenset(w for ws in exact.values() for w in ws)
        self._exact = exact
        self._sizes = sorted({len(k) for k in entries}, reverse=True)

    def _keys(self, word: str) -> list[tuple[tuple[str, ...], bool]]:
        """The keys a vocabulary word is found under, and whether the key is its own sound."""
        if not self.cjk:
            parts = word.lower().split()
            if any(not en_key(p) or len(en_key(p)) < 2 for p in parts):
                return []
            return [(tuple(en_key(p) for p in parts), True)]
        if not _HANZI.fullmatch(word[0]) or not all(_HANZI.fullmatch(c) for c in word) or len(word) < 2:
            return []
        syllables = [s for _, s in zh_syllables(word)]
        if len(syllables) != len(word):
            return []
        keys = [(tuple(zh_key(s) for s in syllables), True)]
        if len(syllables) >= 3:  # one inner syllable may be half right, the first one's onset blurred
            keys += [(tuple("*" if j == i else zh_key(s) for j, s in enumerate(syllables)), False)
                     for i in range(len(syllables) - 1)]
        return keys

    def repairs(self, text: str) -> list[Repair]:
        """Non-overlapping windows (longest first, left to right) that sound like a vocabulary word."""
        units = self._units(text)
        taken = [False] * len(units)
        found: list[Repair] = []
        for size in self._sizes:
            for i in range(len(units) - size + 1):
                if any(taken[i : i + size]):
                    continue
                window = units[i : i + size]
                if any(window[j + 1][0] != window[j][1] + (0 if self.cjk else 1) for j in range(size - 1)):
                    continue  # the window crosses punctuation or a non-Han character
                start, end = window[0][0], window[-1][1]
                heard = text[start:end]
                repair = self._lookup(tuple(u[2] for u in window), tuple(u[3] for u in window), heard)
                if repair is None:
                    continue
                word, exact = repair
                if word == heard:
                    continue
                found.append(Repair(start, end, word, exact))
                taken[i : i + size] = [True] * size
        found.sort(key=lambda r: r.start)
        if self._heads and self._heads_before is not None:
            repaired = apply(text, found)  # a zh repair keeps the length: one character a syllable
            for i, (start, end, _, sound) in enumerate(units):
                head = self._heads.get(_head_key(sound))
                if taken[i] or head is None or text[start] == head:
                    continue
                if self._heads_after is not None and not self._heads_after.search(repaired[:start]):
                    continue
                if self._heads_before.search(repaired[end : end + self._reach]):
                    found.append(Repair(start, end, head, False))
            found.sort(key=lambda r: r.start)
        return found

    def _lookup(self, keys: tuple[str, ...], sounds: tuple[str, ...], heard: str) -> tuple[str, bool] | None:
        if heard in self._words:
            return None  # the window is itself a word of the vocabulary ("打扰" in "免打扰")
        word = self._entries.get(keys)
        if word is None and self.cjk and len(keys) >= 3:
            for i in range(len(keys) - 1):
                word = self._entries.get((*keys[:i], "*", *keys[i + 1 :]))
                if word is None:
                    continue
                meant = zh_key(zh_syllables(word)[i][1])
                if i == 0 and word[0] in self._head_words:
                    continue  # a one-character negator is repaired only where `heads_after` allows it
                if _blurred_onset(keys[i], meant) if i == 0 else _half_right(keys[i], meant, len(keys) < 4):
                    return word, False
            return None
        if word is None:
            return None
        if self.cjk:
            syllables = [s for _, s in zh_syllables(word)]
            return word, tuple(syllables) == sounds
        return word, False  # an English sound-alike is never more than a doubt

    def _units(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, key, sound) per syllable (zh) or word (en)."""
        if self.cjk:
            return [(i, i + 1, zh_key(s), s) for i, s in zh_syllables(text)]
        out = []
        for m in re.finditer(r"[a-z']+", text):
            word = m.group(0)
            key = "" if word in self._never else en_key(word)
            out.append((m.start(), m.end(), key or f"!{word}", word))
        return out


def apply(text: str, repairs: Sequence[Repair]) -> str:
    """`text` with every repaired window replaced by its word."""
    out, last = [], 0
    for r in repairs:
        out += [text[last : r.start], r.word]
        last = r.end
    out.append(text[last:])
    return "".join(out)
