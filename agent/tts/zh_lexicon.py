"""The zh-CN pronunciation lexicon: reviewed readings for the words a lender's voice must get right.

Kept as data beside the scripts (prompts/zh-CN/pronunciation.yaml). Two tables:

- `words`: a word or a short phrase of whole words → its reading in pinyin with tone marks,
  one syllable per character ("还款: huán kuǎn"). Applied before the dictionary G2P, so it
  wins over pypinyin's defaults (pypinyin reads 还款 as hái kuǎn).
- `characters`: a character's reading when it stands alone as a word (的 → de, 了 → le).
  A polyphonic character that is absent here must appear inside a listed word or a
  dictionary phrase, or the linter refuses the script.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pypinyin.contrib.tone_convert import to_tone3

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "prompts" / "zh-CN" / "pronunciation.yaml"


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the entry and what is wrong."""


def tone3(syllable: str) -> str:
    """'huán' → 'huan2', 'de' → 'de5', 'lǜ' → 'lv4' (the form pypinyin's TONE3 style uses)."""
    return str(to_tone3(syllable.strip().lower(), neutral_tone_with_five=True, v_to_u=False))


def _readings(word: str, reading: object, where: str) -> tuple[str, ...]:
    if not isinstance(reading, str) or not reading.strip():
        raise LexiconError(f"{where}: {word!r} needs a reading in pinyin, e.g. 'huán kuǎn'")
    syllables = tuple(tone3(s) for s in reading.split())
    if len(syllables) != len(word):
        raise LexiconError(
            f"{where}: {word!r} has {len(word)} characters but {len(syllables)} syllables ({reading!r}); "
            "give one syllable per character"
        )
    for s in syllables:
        if not s[:-1].isalpha() or not s[-1].isdigit():
            raise LexiconError(f"{where}: {word!r} has an unreadable syllable {s!r}")
    return syllables


@dataclass(frozen=True, slots=True)
class PronunciationLexicon:
    """Word and character readings in TONE3 pinyin, plus a fingerprint of the data."""

    words: Mapping[str, tuple[str, ...]]
    characters: Mapping[str, str]
    fingerprint: str
    source: str = "<memory>"

    @property
    def longest(self) -> int:
        """Characters in the longest listed word."""
        return max((len(w) for w in self.words), default=0)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "<memory>") -> PronunciationLexicon:
        """Build from the YAML's structure ({words: {...}, characters: {...}})."""
        words_raw = data.get("words") or {}
        chars_raw = data.get("characters") or {}
        if not isinstance(words_raw, Mapping) or not isinstance(chars_raw, Mapping):
            raise LexiconError(f"{source}: 'words' and 'characters' must be mappings of text to pinyin")
        words = {str(w): _readings(str(w), r, f"{source}: words") for w, r in words_raw.items()}
        chars: dict[str, str] = {}
        for ch, r in chars_raw.items():
            if len(str(ch)) != 1:
                raise LexiconError(f"{source}: characters: {ch!r} is not one character; list it under words")
            chars[str(ch)] = _readings(str(ch), r, f"{source}: characters")[0]
        canon = repr((sorted(words.items()), sorted(chars.items()))).encode("utf-8")
        return cls(words, chars, hashlib.sha256(canon).hexdigest()[:16], source)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> PronunciationLexicon:
        """Read a lexicon file (cached by path and modification time)."""
        p = Path(path).resolve()
        if not p.is_file():
            raise LexiconError(f"pronunciation lexicon {p} not found; restore it from git")
        return _load(p, p.stat().st_mtime_ns)

    @classmethod
    def empty(cls) -> PronunciationLexicon:
        """No readings: the dictionary G2P alone (for measuring what the lexicon changes)."""
        return cls.from_mapping({})


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> PronunciationLexicon:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise LexiconError(f"{path} must hold a mapping with 'words' and 'characters'")
    return PronunciationLexicon.from_mapping(data, str(path))
