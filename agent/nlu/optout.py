"""Structural opt-out detector (SPEC 6.2, 6.2a): cessation or negation combined with contacting.

The detector is generic; its vocabularies and frames are data, one file per locale
(prompts/<locale>/nlu_optout.yaml). A file has:

- `lists`: named word lists (cessation verbs, verbs and nouns of contacting, media, ...);
- `defs`: named regular-expression fragments that may use `{list}` and `{def}` references;
- `rules`: each with `patterns` (regexes with references), a `kind` (`certain`: act on it;
  `doubt`: ask the customer first), a `scope` (`all`, or `voice` for "only email me"),
  `limited` (a time limiter next to the match - "don't call before nine" - voids it),
  `unless` (sentence regexes that void it), `not_after` / `not_before` (regexes on the text
  just before / after the match that void it), `needs` / `needs_not` (regexes the whole
  utterance must / must not contain), `complaint` (the utterance is also a complaint);
- `limiters`, `vetoes` (void any rule hit in their sentence, e.g. "don't call me sir"),
  `voice_scope` (a mention of another medium that turns an opt-out's scope to `voice`) and
  `refusal` (a sentence that refuses the one before: "拉黑？不至于" is not an opt-out);
- `head_gate`: `in_call` (a cessation of something said in this call: "stop interrupting me")
  and `contact` (any word of contacting); an utterance with the first and none of the second
  gets no opt-out from the learned head or the nearest exemplar (agent/nlu/factory.py), and
  neither does one where a certain frame was heard but voided (a limiter, veto, `unless`);
  `complaint` (a complaint about the calls: how often, how annoying) with none of `request`
  (any word that asks for something: stop, don't, remove, please ...) is a complaint, not an
  opt-out, for the learned layers too; `keep` (a wish that contacting go on: "don't stop the
  reminder calls") gets no learned opt-out either;
- `accepts_calls`: `patterns` (with an optional `not_after`) saying the customer still takes
  calls ("call my cell", "calls are fine", "周一打吧"): beside it a certain hit that names a line,
  place or rhythm (`target`: "this number", "the landline", "天天") is only a doubt
  (which gives way to the callback wish the lexicon heard), a doubtful hit or one of a
  `scope: voice` rule ("I don't want emails, call me instead") is void, and the learned layers
  raise nothing (rules that are not `vetoable` - list removal, threats - are untouched);
- `sound_alike`: `lists` (names of vocabularies above), `combine` (pairs of list names: every
  word of the first joined to every word of the second) and `words` whose ASR sound-alikes are
  repaired (`heads`: one-character words repaired only when `heads_before` follows them and
  `heads_after` precedes them) before the rules are tried once more (`agent.nlu.soundalike`: "别大电话", "stop
  colin me"), and `never` (real words that are not mis-hearings). A hit that needed a repair
  is a doubt, unless every repair in it was a pure homophone of a zh word of 3+ characters
  and the rule is certain.

Text arrives as sentences already normalised by the rule NLU, with soft punctuation kept
as "," (en-US) or "，" (zh-CN); patterns never cross sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from agent.nlu.soundalike import Repair, SoundAlike, apply
from agent.nlu.yamlio import load_words_yaml

__all__ = ["OptOutDetector", "OptOutHit", "Sentence", "load_detector"]

Kind = Literal["certain", "doubt"]
_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_RULE_KEYS = frozenset(
    {"name", "kind", "scope", "patterns", "limited", "unless", "not_after", "not_before"}
    | {"needs", "needs_not", "complaint", "vetoable"}
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One normalised sentence of the utterance, and whether it was asked as a question."""

    text: str
    question: bool = False


@dataclass(frozen=True, slots=True)
class OptOutHit:
    """Why an utterance is an opt-out: the rule, how sure, the scope, and whether it is also a complaint."""

    rule: str
    kind: Kind
    scope: str
    complaint: bool
    span: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    kind: Kind
    scope: str
    patterns: tuple[re.Pattern[str], ...]
    limited: bool
    unless: tuple[re.Pattern[str], ...]
    not_after: re.Pattern[str] | None
    not_before: re.Pattern[str] | None
    needs: tuple[re.Pattern[str], ...]
    needs_not: tuple[re.Pattern[str], ...]
    complaint: bool
    vetoable: bool


class _Expander:
    """Expands `{name}` references to lists (as alternations, longest first) and fragments."""

    def __init__(self, lists: Mapping[str, Sequence[str]], defs: Mapping[str, str], cjk: bool) -> None:
        self._lists = {k: [str(w) for w in v] for k, v in lists.items()}
        self._defs = {k: str(v) for k, v in defs.items()}
        self._cjk = cjk
        self._done: dict[str, str] = {}

    def word_list(self, name: str) -> list[str]:
        return self._lists[name]

    def expand(self, pattern: str, depth: int = 0) -> str:
        if depth > 12:
            raise ValueError(f"reference loop in {pattern!r}")
        return _REF.sub(lambda m: self._ref(m.group(1), depth), pattern)

    def _ref(self, name: str, depth: int) -> str:
        if name in self._done:
            return self._done[name]
        if name in self._lists:
            words = sorted({w.strip() for w in self._lists[name] if w.strip()}, key=len, reverse=True)
            body = "|".join(re.escape(w).replace(r"\ ", " ") for w in words)
            value = f"(?:{body})"
        elif name in self._defs:
            value = f"(?:{self.expand(self._defs[name], depth + 1)})"
        else:
            raise ValueError(f"unknown reference {{{name}}}")
        self._done[name] = value
        return value

    def compile(self, pattern: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(self.expand(pattern))
        except (re.error, ValueError) as exc:
            raise ValueError(f"{where}: bad pattern {pattern!r}: {exc}") from exc


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _joined(sentences: Sequence[Sentence]) -> str:
    """The utterance's sentences as one text, with the boundaries kept visible (" | ")."""
    return " | ".join(s.text for s in sentences)


class OptOutDetector:
    """Finds a request to stop or not to be contacted in a normalised utterance."""

    def __init__(self, spec: Mapping[str, Any], *, cjk: bool, where: str = "<opt-out rules>") -> None:
        self.cjk = cjk
        self._x = _Expander(spec.get("lists") or {}, spec.get("defs") or {}, cjk)
        self.rules = tuple(self._rule(r, f"{where}: rule {i}") for i, r in enumerate(spec.get("rules") or ()))
        if not self.rules:
            raise ValueError(f"{where}: `rules:` is empty")
        self._limiters = self._many(spec.get("limiters"), f"{where}: limiters")
        self._vetoes = self._many(spec.get("vetoes"), f"{where}: vetoes")
        self._voice = self._many(spec.get("voice_scope"), f"{where}: voice_scope")
        self._refusal = self._many(spec.get("refusal"), f"{where}: refusal")
        window = spec.get("window") or {}
        self._left = int(window.get("left", 3))
        self._right = int(window.get("right", 6))
        self._soft = "，" if cjk else ","
        self._sounds = self._sound_alike(spec.get("sound_alike"), where)
        gate = spec.get("head_gate") or {}
        gate_keys = {"contact", "in_call", "complaint", "request", "keep"}
        if not isinstance(gate, Mapping) or set(gate) - gate_keys:
            raise ValueError(f"{where}: `head_gate:` takes {sorted(gate_keys)}")
        self._gate_contact = self._many(gate.get("contact"), f"{where}: head_gate.contact")
        self._gate_in_call = self._many(gate.get("in_call"), f"{where}: head_gate.in_call")
        self._gate_complaint = self._many(gate.get("complaint"), f"{where}: head_gate.complaint")
        self._gate_request = self._many(gate.get("request"), f"{where}: head_gate.request")
        self._gate_keep = self._many(gate.get("keep"), f"{where}: head_gate.keep")
        accepts = spec.get("accepts_calls") or {}
        if not isinstance(accepts, Mapping) or set(accepts) - {"patterns", "not_after", "target"}:
            raise ValueError(f"{where}: `accepts_calls:` takes `patterns`, `not_after` and `target`")
        self._accepts_target = self._one(accepts.get("target"), f"{where}: accepts_calls.target")
        self._accepts = self._many(accepts.get("patterns"), f"{where}: accepts_calls.patterns")
        self._accepts_not_after = self._one(accepts.get("not_after"), f"{where}: accepts_calls.not_after")

    def _sound_alike(self, spec: Any, where: str) -> SoundAlike | None:
        if not spec:
            return None
        keys = {"lists", "combine", "words", "never", "heads", "heads_before", "heads_after"}
        if not isinstance(spec, Mapping) or set(spec) - keys:
            raise ValueError(f"{where}: `sound_alike:` takes {sorted(keys)}")
        joint = "" if self.cjk else " "
        try:
            words = [w for name in _texts(spec.get("lists")) for w in self._x.word_list(name)]
            for pair in spec.get("combine") or ():
                left, right = (self._x.word_list(str(name)) for name in pair)
                words += [f"{a}{joint}{b}" for a in left for b in right]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: sound_alike: `lists` and `combine` name lists above ({exc})") from exc
        before = self._one(spec.get("heads_before"), f"{where}: sound_alike.heads_before")
        after = self._one(spec.get("heads_after"), f"{where}: sound_alike.heads_after")
        return SoundAlike(
            [*words, *_texts(spec.get("words"))],
            cjk=self.cjk,
            never=_texts(spec.get("never")),
            heads=_texts(spec.get("heads")),
            heads_before=before,
            heads_after=after,
        )

    def words(self, name: str) -> list[str]:
        """A vocabulary list of the data file (the generated tests combine them)."""
        return self._x.word_list(name)

    def _many(self, items: Any, where: str) -> tuple[re.Pattern[str], ...]:
        return tuple(self._x.compile(p, where) for p in _texts(items))

    def _one(self, item: Any, where: str) -> re.Pattern[str] | None:
        items = _texts(item)
        return self._x.compile("|".join(f"(?:{p})" for p in items), where) if items else None

    def _rule(self, spec: Mapping[str, Any], where: str) -> _Rule:
        unknown = set(spec) - _RULE_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        kind = spec.get("kind", "certain")
        if kind not in ("certain", "doubt"):
            raise ValueError(f"{where}: kind must be certain or doubt")
        name = str(spec.get("name") or where)
        return _Rule(
            name=name,
            kind=kind,
            scope=str(spec.get("scope", "all")),
            patterns=self._many(spec.get("patterns"), f"{where} ({name})"),
            limited=bool(spec.get("limited", False)),
            unless=self._many(spec.get("unless"), f"{where} ({name}) unless"),
            not_after=self._one(spec.get("not_after"), f"{where} ({name}) not_after"),
            not_before=self._one(spec.get("not_before"), f"{where} ({name}) not_before"),
            needs=self._many(spec.get("needs"), f"{where} ({name}) needs"),
            needs_not=self._many(spec.get("needs_not"), f"{where} ({name}) needs_not"),
            complaint=bool(spec.get("complaint", False)),
            vetoable=bool(spec.get("vetoable", True)),
        )

    # -- detection ---------------------------------------------------------------------------

    def detect(self, sentences: Sequence[Sentence]) -> OptOutHit | None:
        """The strongest opt-out in the utterance (certain before doubt), or None."""
        hit = self._detect(sentences)
        if hit is not None or self._sounds is None:
            return hit
        return self._detect_repaired(sentences, self._sounds)

    def _detect_repaired(self, sentences: Sequence[Sentence], sounds: SoundAlike) -> OptOutHit | None:
        """The rules once more on sentences whose sound-alikes of key words were repaired."""
        found = [self._unprotected(s.text, sounds.repairs(s.text)) for s in sentences]
        if not any(found):
            return None
        repaired = [Sentence(apply(s.text, r), s.question) for s, r in zip(sentences, found, strict=True)]
        hit = self._detect(repaired)
        if hit is None:
            return None
        for sentence, repairs in zip(repaired, found, strict=True):
            at = sentence.text.find(hit.span)
            if at < 0:
                continue
            shift, used = 0, []
            for r in repairs:  # where each repaired word lies in the repaired sentence
                start = r.start + shift
                shift += len(r.word) - (r.end - r.start)
                if start < at + len(hit.span) and start + len(r.word) > at:
                    used.append(r)
            if not used:
                continue
            sure = hit.kind == "certain" and self.cjk and all(r.exact and len(r.word) >= 3 for r in used)
            kind: Kind = "certain" if sure else "doubt"
            return OptOutHit(f"{hit.rule}~sound", kind, hit.scope, hit.complaint, hit.span)
        return None

    def _unprotected(self, text: str, repairs: list[Repair]) -> list[Repair]:
        """The repairs that touch no limiter or veto already heard ("现在别打" is not "现再别打")."""
        if not repairs:
            return repairs
        kept = [(m.start(), m.end()) for p in (*self._limiters, *self._vetoes) for m in p.finditer(text)]
        return [r for r in repairs if not any(a < r.end and r.start < b for a, b in kept)]

    def _detect(self, sentences: Sequence[Sentence]) -> OptOutHit | None:
        whole = _joined(sentences)
        accepts = self.accepts_calls(sentences)
        doubt: OptOutHit | None = None
        for index, sentence in enumerate(sentences):
            if not sentence.text or self._refused(sentences, index):
                continue
            vetoed = any(v.search(sentence.text) for v in self._vetoes)
            for rule in self.rules:
                if (rule.kind == "doubt" and doubt is not None) or (vetoed and rule.vetoable):
                    continue
                span = self._match(rule, sentence.text, whole)
                if span is None:
                    continue
                voice = rule.scope == "voice" or any(v.search(whole) for v in self._voice)
                scope = "voice" if voice else "all"
                kind = rule.kind
                if accepts and rule.vetoable:
                    if rule.scope == "voice" or kind == "doubt":
                        continue  # "no emails, call me instead" asks for calls
                    if self._redirected(sentence.text, span):
                        kind = "doubt"  # "stop calling the landline, use my mobile": a callback wish, or ask
                hit = OptOutHit(rule.name, kind, scope, rule.complaint, span)
                if kind == "certain":
                    return hit
                if doubt is None:
                    doubt = hit
        return doubt

    def kind_of(self, rule: str) -> Kind | None:
        """The kind of the named rule (None if there is none)."""
        return next((r.kind for r in self.rules if r.name == rule), None)

    def repaired(self, text: str) -> str:
        """`text` with its sound-alikes of key words repaired (as a repaired hit's span reads)."""
        return text if self._sounds is None else apply(text, self._sounds.repairs(text))

    def voided(self, sentences: Sequence[Sentence]) -> bool:
        """Whether a certain frame was heard but voided by a time limiter, a veto, an `unless` or a
        `needs_not` ("这会儿别打扰我，明天再联系", "don't call my wife", "不用取消，电话提醒挺好的"):
        the rules understood the request and its limit, so a learned score may not overrule them."""
        whole = _joined(sentences)
        for sentence in sentences:
            text = sentence.text
            vetoed = any(v.search(text) for v in self._vetoes)
            for rule in self.rules:
                if rule.kind != "certain" or not any(p.search(text) for p in rule.patterns):
                    continue
                if vetoed and rule.vetoable:
                    return True
                if any(u.search(text) for u in rule.unless) or any(n.search(whole) for n in rule.needs_not):
                    return True
                if rule.limited and any(
                    self._limited(text[: m.start()], m.group(0), text[m.end() :])
                    for pattern in rule.patterns
                    for m in pattern.finditer(text)
                ):
                    return True
        return False

    def only_stops_the_talk(self, sentences: Sequence[Sentence]) -> bool:
        """Whether the utterance stops something said in this call ("stop interrupting me", "别念了")
        and names no contacting at all: then a learned score alone is no opt-out (`head_gate`)."""
        whole = _joined(sentences)
        if not any(p.search(whole) for p in self._gate_in_call):
            return False
        if any(p.search(whole) for p in self._gate_contact):
            return False
        if self._sounds is not None:
            repaired = " | ".join(apply(s.text, self._sounds.repairs(s.text)) for s in sentences)
            return not any(p.search(repaired) for p in self._gate_contact)
        return True

    def accepts_calls(self, sentences: Sequence[Sentence]) -> bool:
        """Whether the utterance says calls are still welcome ("call my cell", "calls are fine")."""
        whole = _joined(sentences)  # "下午再打？不用了" is refused in the next sentence
        for pattern in self._accepts:
            for m in pattern.finditer(whole):
                before = whole[: m.start()].split(" | ")[-1]
                if self._accepts_not_after is None or not self._accepts_not_after.search(before):
                    return True
        return False

    def _redirected(self, text: str, span: str) -> bool:
        """Whether the hit names a line, a place or a rhythm (`accepts_calls.target`: "this number",
        "the landline", "every day", "单位电话", "天天"), so a call welcomed elsewhere redirects it;
        "call me tomorrow. stop calling me" names the customer and stays certain."""
        if self._accepts_target is None:
            return False
        at = text.find(span)
        window = text[at : at + len(span) + (8 if self.cjk else 32)] if at >= 0 else span
        return self._accepts_target.search(window) is not None

    def only_complains(self, sentences: Sequence[Sentence]) -> bool:
        """Whether the utterance complains about the calls and asks for nothing ("why do you keep
        calling me?", "烦不烦"), or wishes the contacting to go on ("don't stop the reminder calls"):
        then a learned score alone is no opt-out (`head_gate.complaint`, `request`, `keep`)."""
        whole = _joined(sentences)
        if any(p.search(whole) for p in self._gate_keep):
            return True
        if not any(p.search(whole) for p in self._gate_complaint):
            return False
        return not any(p.search(whole) for p in self._gate_request)

    def scope(self, sentences: Sequence[Sentence]) -> str:
        """The scope an opt-out found by another layer gets: `voice` when another medium is named."""
        whole = _joined(sentences)
        return "voice" if any(v.search(whole) for v in self._voice) else "all"

    def _match(self, rule: _Rule, text: str, whole: str) -> str | None:
        if any(u.search(text) for u in rule.unless):
            return None
        if rule.needs and not all(n.search(whole) for n in rule.needs):
            return None
        if any(n.search(whole) for n in rule.needs_not):
            return None
        for pattern in rule.patterns:
            at = 0  # a voided match is retried one character on ("不用了以后都别打" voided by 下午: "别打")
            while (m := pattern.search(text, at)) is not None:
                at = m.start() + 1
                before, after = text[: m.start()], text[m.end() :]
                if rule.not_after is not None and rule.not_after.search(before):
                    continue
                if rule.not_before is not None and rule.not_before.match(after):
                    continue
                if rule.limited and self._limited(before, m.group(0), after):
                    continue
                return m.group(0)
        return None

    def _limited(self, before: str, span: str, after: str) -> bool:
        """A time limiter beside the match ("before nine", "现在别打"): a callback wish, not an opt-out."""
        if self.cjk:
            left = before.split(self._soft)[-1][-self._left :]
            right = after.split(self._soft)[0][: self._right]
            window = f"{left}{span}{right}"
        else:
            clause = re.split(r"\b(?:and|but|so|because)\b", before.split(self._soft)[-1])[-1]
            left = " ".join(clause.split()[-self._left :])  # "pay tonight and no more calls": not "tonight"
            right_part = re.split(r"\s,\s|\bbut\b|\|", after)[0]
            right = " ".join(right_part.split()[: self._right])
            window = f"{left} {span} {right}".strip()
        return any(p.search(window) for p in self._limiters)

    def _refused(self, sentences: Sequence[Sentence], index: int) -> bool:
        """An echoed question refused at once ("Opt out? No, go on.") asks for nothing."""
        sentence = sentences[index]
        if not sentence.question or index + 1 >= len(sentences):
            return False
        last = sentence.text.split(self._soft)[-1]
        short = len(last) <= 6 if self.cjk else len(last.split()) <= 4
        nxt = sentences[index + 1].text
        return short and any(r.search(nxt) for r in self._refusal)


def load_detector(path: str | Path, *, cjk: bool) -> OptOutDetector:
    """Read prompts/<locale>/nlu_optout.yaml."""
    file = Path(path)
    try:
        data = load_words_yaml(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{file}: cannot read the opt-out rules: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ValueError(f"{file}: the opt-out rules are a mapping with `lists:` and `rules:`")
    return OptOutDetector(data, cjk=cjk, where=str(file))
