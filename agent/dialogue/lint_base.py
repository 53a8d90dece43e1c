"""What every lint rule family shares: the finding type, the per-script context and sentence walkers.

A rule family is a function `check(ctx: LintContext) -> Iterable[Finding]`, registered by one
line in `agent.dialogue.linter.RULE_FAMILIES`. The context carries the loaded script, the
locale's word lists (`LintRules`), the line lookup and the state graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agent.dialogue.render import RenderError, template_slots
from agent.dialogue.script import Handler, Script
from agent.text.phrases import PhraseRule, load_phrase_rules

__all__ = [
    "Finding",
    "LintContext",
    "LintRules",
    "OfficialCheck",
    "RuleFamily",
    "YamlPath",
    "all_templates",
    "global_templates",
    "rules_for",
    "slots_in",
    "state_templates",
]

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint error: where, which rule, what is wrong and how to fix it (one sentence)."""

    file: str
    line: int | None
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: [{self.rule}] {self.message}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LintRules:
    """Per-locale data the linter needs: prohibited phrases and the opening's required wording.

    `data` is the whole of prompts/<locale>/lint.yaml, so a new rule family can read its own key.
    """

    prohibited: tuple[PhraseRule, ...]
    ai: tuple[re.Pattern[str], ...]
    synthetic_voice: tuple[re.Pattern[str], ...]
    company_slots: frozenset[str]
    opt_out_voice: tuple[re.Pattern[str], ...]
    opt_out_key: tuple[str, ...]
    account_literals: tuple[re.Pattern[str], ...]
    retention_pitch: tuple[re.Pattern[str], ...]
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, prompts_dir: Path, locale: str) -> LintRules:
        """Read prompts/<locale>/prohibited.yaml and prompts/<locale>/lint.yaml."""
        data = yaml.safe_load((prompts_dir / locale / "lint.yaml").read_text(encoding="utf-8")) or {}
        opening = data.get("disclosure") or {}
        return cls(
            prohibited=load_phrase_rules(prompts_dir, locale),
            ai=patterns(opening.get("ai")),
            synthetic_voice=patterns(opening.get("synthetic_voice")),
            company_slots=frozenset(opening.get("company_slots") or ("company_name",)),
            opt_out_voice=patterns(opening.get("opt_out_voice")),
            opt_out_key=tuple(str(p) for p in opening.get("opt_out_key") or ()),
            account_literals=patterns(data.get("account_literals")),
            retention_pitch=patterns(data.get("retention_pitch")),
            data=data,
        )


def patterns(items: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    """Case-insensitive regular expressions from a word-list entry (None = none)."""
    return tuple(re.compile(str(p), re.I) for p in items or ())


_DATA_FILES = frozenset({"prohibited.yaml", "lint.yaml"})


@lru_cache(maxsize=16)
def _rules_for(prompts_dir: Path, locale: str, stamp: float) -> LintRules:
    """Cached per folder, locale and data-file mtime (so edited word lists are picked up)."""
    return LintRules.load(prompts_dir, locale)


def rules_for(prompts_dir: Path, locale: str) -> LintRules:
    """The locale's lint data, re-read when its files change."""
    stamp = max(
        (p.stat().st_mtime for p in (prompts_dir / locale).glob("*.yaml") if p.name in _DATA_FILES),
        default=0.0,
    )
    return _rules_for(prompts_dir.resolve(), locale, stamp)


# -- the state graph -----------------------------------------------------------------------

_GLOBAL_NETS = ("ask_who_is_calling", "complaint", "request_human", "unknown", "no_input", "max_duration")


def _handler_targets(handler: Handler | None) -> list[str]:
    return [handler.goto] if handler is not None and handler.goto else []


def edges(script: Script, *, own_only: bool = False) -> dict[str, set[str]]:
    """State -> states the call can move to; `own_only` leaves out the global safety nets."""
    global_targets: set[str] = set()
    if not own_only:
        for name in _GLOBAL_NETS:
            global_targets.update(_handler_targets(getattr(script.globals, name)))
    out: dict[str, set[str]] = {}
    for name, state in script.states.items():
        targets: set[str] = set(state.needs.values())
        if state.end is None:
            targets.update(state.expect.values())
            targets.update(state.expect[i] for i in state.dtmf.values() if i in state.expect)
            for handler in (state.fallback, state.no_input):
                targets.update(_handler_targets(handler))
            targets.update(global_targets)
        out[name] = targets
    return out


def reachable(graph: Mapping[str, set[str]], start: str, stop: frozenset[str] = frozenset()) -> set[str]:
    """States reachable from `start`, not expanding past states in `stop`."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node in stop:
            continue
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


OfficialCheck = Callable[[str, str], bool]
"""(number as written, script jurisdiction) -> whether it is one of the lender's registered numbers."""


@dataclass(slots=True)
class LintContext:
    """One script being linted: the script, its locale's rules, the official-number check, its graph."""

    script: Script
    rules: LintRules
    prompts_dir: Path | None = None  # prompts/ the script's locale data was read from
    official: OfficialCheck | None = None
    graph: dict[str, set[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.graph = edges(self.script)

    @property
    def file(self) -> str:
        """The script's file name as given to the loader."""
        return self.script.source or ""

    def at(self, *path: str | int) -> int | None:
        """The 1-based line of a YAML entry (None when the file did not have it)."""
        return self.script.line_of(*path)


RuleFamily = Callable[[LintContext], Iterable[Finding]]


# -- the sentences a script says -------------------------------------------------------------


def state_templates(script: Script, name: str) -> Iterator[tuple[YamlPath, str]]:
    """(yaml path, template) for every sentence a state says."""
    for fld, index, text in script.states[name].templates():
        head, _, tail = fld.partition(".")
        yield (("states", name, head, tail, index) if tail else ("states", name, head, index)), text


def global_templates(script: Script) -> Iterator[tuple[str, YamlPath, str]]:
    """(handler, yaml path, template) for every global handler sentence."""
    for gname in type(script.globals).model_fields:
        for index, text in enumerate(getattr(script.globals, gname).say):
            yield gname, ("global", gname, "say", index), text


def all_templates(script: Script) -> Iterator[tuple[YamlPath, str]]:
    """(yaml path, template) for every sentence of the script: states first, then global handlers."""
    for name in script.states:
        yield from state_templates(script, name)
    for _, path, text in global_templates(script):
        yield path, text


def slots_in(text: str) -> tuple[str, ...]:
    """The slot names a template uses (none when the template does not parse)."""
    try:
        return template_slots(text)
    except RenderError:
        return ()
