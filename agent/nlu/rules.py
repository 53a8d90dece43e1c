"""Rule NLU: per-locale lexicons (YAML data beside the scripts) catch the must-not-miss intents.

Text is normalised the way ASR output needs (lowercase, punctuation, contractions, fillers,
known mis-hearings), then each intent's rule groups are tried. Opt-out and complaint are
always checked first; among other matches the script's expected intents are preferred,
then the lexicon's order. A phrase preceded by 'not'/'never' does not count.

zh-CN (any `zh` locale) has no spaces between words: phrases match as substrings, a phrase
right after a lexicon `negators` character (不, 没, 别) does not count, `normalize.characters`
maps traditional forms to simplified, and dates/times come from `agent.nlu.slots_zh`.

Opt-out precedence is a rule of this class, not of a lexicon: the structural detector
(`agent.nlu.optout`, data in nlu_optout.yaml beside the lexicon) runs first on every
utterance, and a certain hit is `opt_out` whatever else the utterance contains (a robot
question, a complaint, a promise, a callback time). A doubtful hit is `opt_out` with a
confidence below `OPT_OUT_CERTAIN` (the agent asks first), unless the utterance plainly says
something else the script can act on ("why do you keep calling? I already paid").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.nlu import slots as slot_parsers
from agent.nlu import slots_zh
from agent.nlu.intents import (
    ALWAYS_AVAILABLE,
    MUST_NOT_MISS,
    OPT_OUT_SCOPE_SLOT,
    UNKNOWN,
    Intent,
    NluResult,
)
from agent.nlu.optout import OptOutDetector, OptOutHit, Sentence, load_detector
from agent.nlu.yamlio import load_words_yaml

__all__ = ["LexiconError", "RuleNlu"]

_NEGATORS = frozenset({"not", "never"})
_CONTINUES = (",", "，", "、", "-", "—", "...", "…", ";", "；", ":", "：")
_GROUP_KEYS = frozenset({"phrases", "patterns", "exact", "unless", "needs_date", "max_words"})
_HARD = re.compile(r"(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bst)\.+|\.\.\.|[!?;。！？；…]+")
_SOFT = re.compile(r"[,，、:：—–]+|\s-\s")
CERTAIN_CONFIDENCE = 0.95
"""Confidence of an opt-out the detector is sure of."""
DOUBT_CONFIDENCE = 0.65
"""Confidence of a doubtful opt-out: below OPT_OUT_CERTAIN, so the agent confirms first."""
_OVERRIDES_DOUBT = frozenset(
    {
        Intent.ALREADY_PAID,
        Intent.PROMISE_TO_PAY,
        Intent.HARDSHIP,
        Intent.DISPUTE,
        Intent.WRONG_PERSON,
        Intent.CALLBACK_LATER,
        Intent.REQUEST_HUMAN,
    }
)
"""A doubtful opt-out gives way to these: the customer said something the script can act on."""


class LexiconError(ValueError):
    """The NLU lexicon file is malformed."""


@dataclass(frozen=True, slots=True)
class _Group:
    """One way an intent can be said: phrases/patterns/exact utterances, vetoed by `unless`."""

    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    exact: frozenset[str]
    unless: tuple[re.Pattern[str], ...]
    needs_date: bool
    max_words: int | None
    has_date: Callable[[str], bool] = slot_parsers.has_date_expression
    has_phrase: Callable[[str, str], bool] = lambda text, phrase: _has_phrase(text, phrase)
    cjk: bool = False

    def matches(self, text: str) -> bool:
        """Whether normalised `text` says this (an empty group with needs_date matches any date)."""
        size = len(text) if self.cjk else len(text.split())
        if self.max_words is not None and size > self.max_words:
            return False
        if any(p.search(text) for p in self.unless):
            return False
        if self.needs_date and not self.has_date(text):
            return False
        if text in self.exact or any(p.search(text) for p in self.patterns):
            return True
        if any(self.has_phrase(text, phrase) for phrase in self.phrases):
            return True
        return self.needs_date and not (self.phrases or self.patterns or self.exact)


def _has_phrase(text: str, phrase: str) -> bool:
    """Whole-word occurrence of `phrase` in `text`, not negated by the word before or after it."""
    words, target = text.split(), phrase.split()
    size = len(target)
    for i in range(len(words) - size + 1):
        if words[i : i + size] != target:
            continue
        before = words[i - 1] if i else ""
        after = words[i + size] if i + size < len(words) and target[-1] not in _NEGATORS else ""
        if before not in _NEGATORS and after not in _NEGATORS:
            return True
    return False


def _has_cjk_phrase(text: str, phrase: str, negators: frozenset[str]) -> bool:
    """Substring occurrence of `phrase`, not right after a negator (unless it starts with one)."""
    if not phrase:
        return False
    start = text.find(phrase)
    while start != -1:
        if not start or text[start - 1] not in negators or phrase[0] in negators:
            return True
        start = text.find(phrase, start + 1)
    return False


class RuleNlu:
    """Lexicon-driven intent classifier for one locale; deterministic and fast."""

    def __init__(self, locale: str, lexicon: Mapping[str, Any], optout: OptOutDetector | None = None) -> None:
        self.locale = locale
        self.optout = optout
        self.cjk = locale.lower().startswith("zh")
        self._parsers = slots_zh if self.cjk else slot_parsers
        norm = lexicon.get("normalize") or {}
        self._chars = str.maketrans(
            {str(k): str(v) for k, v in (norm.get("characters") or {}).items() if len(str(k)) == 1}
        )
        self._negators = frozenset(str(n) for n in lexicon.get("negators") or ())
        self._contractions = _pairs(norm.get("contractions"), "normalize.contractions")
        self._corrections = _pairs(norm.get("corrections"), "normalize.corrections")
        self._fillers = frozenset(str(f).lower() for f in norm.get("fillers") or ())
        self._dangling = frozenset(str(w).lower() for w in lexicon.get("incomplete_endings") or ())
        intents = lexicon.get("intents")
        if not isinstance(intents, Mapping) or not intents:
            raise LexiconError("the lexicon needs `intents:` mapping intent names to rules")
        self._slots: dict[str, str] = {}
        self._rules: dict[str, tuple[_Group, ...]] = {}
        for name, spec in intents.items():
            self._rules[str(name)] = self._groups(str(name), spec)
        self.intents: tuple[str, ...] = tuple(self._rules)

    @classmethod
    def from_file(cls, path: str | Path) -> RuleNlu:
        """Load a lexicon such as prompts/en-US/nlu.yaml, and nlu_optout.yaml beside it if present."""
        try:
            data = load_words_yaml(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LexiconError(f"{path}: cannot read the NLU lexicon: {exc}") from exc
        if not isinstance(data, Mapping) or "locale" not in data:
            raise LexiconError(f"{path}: an NLU lexicon is a mapping with `locale:` and `intents:`")
        locale = str(data["locale"])
        rules_file = Path(path).with_name("nlu_optout.yaml")
        cjk = locale.lower().startswith("zh")
        try:
            optout = load_detector(rules_file, cjk=cjk) if rules_file.exists() else None
        except ValueError as exc:
            raise LexiconError(str(exc)) from exc
        try:
            return cls(locale, data, optout)
        except LexiconError as exc:
            raise LexiconError(f"{path}: {exc}") from exc

    def _groups(self, intent: str, spec: Any) -> tuple[_Group, ...]:
        """Parse one intent's rule groups; `slot:` names the slot it fills."""
        if not isinstance(spec, Mapping):
            raise LexiconError(f"intent {intent!r}: expected a mapping of phrases/patterns/rules")
        spec = dict(spec)
        if "slot" in spec:
            self._slots[intent] = str(spec.pop("slot"))
        rules = spec.pop("rules", None) or []
        if not isinstance(rules, list) or not all(isinstance(g, Mapping) for g in rules):
            raise LexiconError(f"intent {intent!r}: `rules` must be a list of rule groups")
        flat = [*rules, *([spec] if set(spec) & _GROUP_KEYS else [])]
        unknown = set(spec) - _GROUP_KEYS
        if unknown:
            raise LexiconError(f"intent {intent!r}: unknown keys {sorted(unknown)}")
        return tuple(self._group(intent, g) for g in flat)

    def _group(self, intent: str, spec: Mapping[str, Any]) -> _Group:
        """Compile one rule group (phrases are normalised like customer text)."""
        unknown = set(spec) - _GROUP_KEYS
        if unknown:
            raise LexiconError(f"intent {intent!r}: unknown rule keys {sorted(unknown)}")
        try:
            return _Group(
                phrases=tuple(self.normalize(str(p)) for p in spec.get("phrases") or ()),
                patterns=tuple(re.compile(str(p)) for p in spec.get("patterns") or ()),
                exact=frozenset(self.normalize(str(p)) for p in spec.get("exact") or ()),
                unless=tuple(re.compile(str(p)) for p in spec.get("unless") or ()),
                needs_date=bool(spec.get("needs_date", False)),
                max_words=spec.get("max_words"),
                has_date=self._parsers.has_date_expression,
                has_phrase=self._phrase_matcher(),
                cjk=self.cjk,
            )
        except re.error as exc:
            raise LexiconError(f"intent {intent!r}: bad pattern: {exc}") from exc

    def _phrase_matcher(self) -> Callable[[str, str], bool]:
        if not self.cjk:
            return _has_phrase
        negators = self._negators
        return lambda text, phrase: _has_cjk_phrase(text, phrase, negators)

    def _normalize_cjk(self, text: str) -> str:
        """Simplified characters, no punctuation or spaces, known mis-hearings fixed, edge fillers off."""
        text = re.sub(r"[^\w]", "", text.lower().translate(self._chars))
        for heard, meant in self._corrections:
            text = text.replace(heard, meant)
        fillers = sorted(self._fillers, key=len, reverse=True)
        changed = True
        while changed:
            changed = False
            for filler in fillers:
                if text.startswith(filler) and len(text) > len(filler):
                    text, changed = text[len(filler) :], True
                if text.endswith(filler) and len(text) > len(filler):
                    text, changed = text[: -len(filler)], True
        return text

    def normalize(self, text: str) -> str:
        """Lowercase, expand contractions, strip punctuation and fillers, fix known mis-hearings."""
        if self.cjk:
            return self._normalize_cjk(text)
        text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
        text = " ".join(re.sub(r"[^\w\s'/:]", " ", text).split())
        text = _replace_words(text, self._contractions)
        text = " ".join(re.sub(r"[^\w\s/:]", " ", text).split())
        text = _replace_words(text, self._corrections)
        return " ".join(w for w in text.split() if w not in self._fillers)

    def sentences(self, text: str) -> list[Sentence]:
        """The utterance as normalised sentences; soft punctuation kept as ',' (or '，')."""
        soft = "，" if self.cjk else " , "
        out: list[Sentence] = []
        pieces = _HARD.split(text.lower())
        marks = _HARD.findall(text.lower())
        for index, piece in enumerate(pieces):
            chunks = [self.normalize(c) for c in _SOFT.split(piece)]
            joined = soft.join(c for c in chunks if c)
            if not joined:
                continue
            question = index < len(marks) and ("?" in marks[index] or "？" in marks[index])
            size = len(joined) if self.cjk else len(joined.split())
            if out and (size <= 1 or (len(out[-1].text) if self.cjk else len(out[-1].text.split())) <= 1):
                joined = f"{out[-1].text} {joined}" if not self.cjk else out[-1].text + joined
                out[-1] = Sentence(joined, question)
                continue
            out.append(Sentence(joined, question))
        return out

    def opt_out(self, text: str) -> OptOutHit | None:
        """The structural detector's verdict on raw customer text (None: no opt-out found)."""
        if self.optout is None:
            return None
        return self.optout.detect(self.sentences(text))

    def only_stops_the_talk(self, text: str) -> bool:
        """Whether raw text only stops something said in this call, naming no contacting (`head_gate`)."""
        return self.optout is not None and self.optout.only_stops_the_talk(self.sentences(text))

    def refuses_a_learned_opt_out(self, text: str) -> bool:
        """Whether the rules overrule a learned opt-out: the text only stops the talk, only complains
        about the calls, says calls are still welcome, or a certain frame in it was voided by a
        limiter, veto or exception ("这会儿别打扰我，明天再联系")."""
        if self.optout is None:
            return False
        sentences = self.sentences(text)
        detector = self.optout
        return (
            detector.only_stops_the_talk(sentences)
            or detector.only_complains(sentences)
            or detector.accepts_calls(sentences)
            or detector.voided(sentences)
        )

    def opt_out_scope(self, text: str) -> str:
        """The suppression scope of an opt-out another layer found in raw text ('all' or 'voice')."""
        return "all" if self.optout is None else self.optout.scope(self.sentences(text))

    def _opt_out_result(self, hit: OptOutHit, found: Sequence[str], text: str) -> NluResult | None:
        """An opt-out result, carrying its scope and a complaint said with it; None when doubt gives way."""
        also = (Intent.COMPLAINT.value,) if hit.complaint or Intent.COMPLAINT in found else ()
        slots = {OPT_OUT_SCOPE_SLOT: hit.scope}
        if hit.kind == "certain":
            return NluResult(Intent.OPT_OUT, CERTAIN_CONFIDENCE, slots, also)
        if self._heard_certain(hit):
            return NluResult(Intent.OPT_OUT, DOUBT_CONFIDENCE, slots, also)  # asked whatever else was said
        if any(i in _OVERRIDES_DOUBT for i in self.matches(self._outside(text, hit.span))):
            return None
        return NluResult(Intent.OPT_OUT, DOUBT_CONFIDENCE, slots, also)

    def _heard_certain(self, hit: OptOutHit) -> bool:
        """A certain frame found only once a sound-alike was repaired ("我还是会还的，你们爹打了"):
        the request was plain, only the hearing is in doubt, so it is asked about, not dropped for
        the promise or callback said beside it."""
        base = hit.rule.removesuffix("~sound")
        return base != hit.rule and self.optout is not None and self.optout.kind_of(base) == "certain"

    def _outside(self, text: str, span: str) -> str:
        """The normalised utterance without the opt-out's own words: a doubt gives way to another
        intent only for what else was said ("爹他妈再打了" is no callback wish because of 再打)."""
        if self.optout is None:
            return self.normalize(text)
        soft = "，" if self.cjk else " , "
        pieces = [self.optout.repaired(s.text).replace(span, soft) for s in self.sentences(text)]
        return self.normalize(soft.join(pieces))

    def matches(self, text: str) -> list[str]:
        """Every intent whose rules match the (already normalised) text, in lexicon order."""
        return [name for name, groups in self._rules.items() if any(g.matches(text) for g in groups)]

    def classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        """Best intent for one utterance; confidence 0 with 'unknown' lets a next layer decide."""
        norm = self.normalize(text)
        if not norm:
            return NluResult(UNKNOWN, 0.0)
        found = self.matches(norm)
        hit = self.opt_out(text)
        if hit is not None:
            result = self._opt_out_result(hit, found, text)
            if result is not None:
                return result
        if not found:
            return NluResult(UNKNOWN, 0.0)
        urgent = [i for i in MUST_NOT_MISS if i in found]
        if urgent:
            intent = urgent[0]
        elif expected:
            wanted = set(expected) | ALWAYS_AVAILABLE
            intent = next((i for i in found if i in wanted), found[0])
        else:
            intent = found[0]
        confidence = 0.95 if len(found) == 1 else 0.85
        if expected and not urgent and intent not in set(expected) | ALWAYS_AVAILABLE:
            confidence = 0.7
        return NluResult(intent, confidence, self._slot_values(intent, norm, today))

    def _slot_values(self, intent: str, text: str, today: dt.date | None) -> dict[str, str]:
        """Fill the intent's slot (date or time) when it can be resolved."""
        kind = self._slots.get(intent)
        if kind == "date" and today is not None:
            day = self._parsers.parse_date(text, today)
            return {"date": day.isoformat()} if day else {}
        if kind == "time":
            time = self._parsers.parse_time(text, today)
            return {"time": time} if time else {}
        return {}

    def slots_for(self, intent: str, text: str, *, today: dt.date | None = None) -> dict[str, str]:
        """Slot values for an intent another layer chose (raw customer text)."""
        return self._slot_values(intent, self.normalize(text), today)

    def is_complete_answer(self, text: str, expected: Sequence[str]) -> bool:
        """Whether a (partial) transcript already answers the state, so end-of-turn can be short."""
        if text.rstrip().endswith(_CONTINUES):
            return False  # whisper writes "Yes," when the voice says more is coming ("Yes, speaking.")
        raw = text.lower().split()
        if not raw or raw[-1].strip(".,!?") in self._dangling | self._fillers:
            return False
        norm = self.normalize(text)
        if not norm or norm.split()[-1] in self._dangling:
            return False
        if self.cjk and any(norm.endswith(d) for d in self._dangling):
            return False
        found = self.matches(norm)
        if any(i in found for i in MUST_NOT_MISS) or self.opt_out(text) is not None:
            return True
        result = self.classify(text, expected)
        if result.intent not in expected:
            return False
        return result.intent != "promise_to_pay" or self._parsers.has_date_expression(norm)


def _pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """A mapping of phrase -> replacement, longest phrases first."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise LexiconError(f"{where} must be a mapping of 'heard: meant'")
    pairs = [(str(k).lower(), str(v).lower()) for k, v in value.items()]
    return tuple(sorted(pairs, key=lambda kv: len(kv[0]), reverse=True))


def _replace_words(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """Replace whole-word phrases, longest first."""
    padded = f" {text} "
    for heard, meant in pairs:
        if f" {heard} " in padded:
            padded = padded.replace(f" {heard} ", f" {meant} ")
            padded = padded.replace(f" {heard} ", f" {meant} ")
    return " ".join(padded.split())
