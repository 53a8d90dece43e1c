"""The script linter (SPEC 5.3): proves a script's compliance properties over its state graph.

Each finding names file, line, rule id and a one-sentence fix. Rules:
`disclosure-missing`, `opt-out-instruction-missing`, `opt-out-overridden`, `opt-out-retention`,
`ai-answer-untruthful`, `account-detail-before-identity`, `dead-end-state`, `unreachable-state`,
`undefined-slot`, `prohibited-phrase`, plus `unknown-state`, `yaml-syntax`, `script-invalid` and
`duplicate-script` for scripts the model rejects. Locale word lists are data:
prompts/<locale>/prohibited.yaml (shared with the runtime guard) and prompts/<locale>/lint.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agent.compliance.guard import ProhibitedRule, find_prohibited, load_prohibited
from agent.dialogue.lint_confirm import check_confirm
from agent.dialogue.loader import ScriptError, ScriptIssue, load_script_text, read_yaml
from agent.dialogue.render import RenderError, template_slots
from agent.dialogue.script import Handler, Script

__all__ = ["Finding", "LintRules", "find_scripts", "lint_file", "lint_paths", "lint_script", "lint_text"]

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


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
    """Per-locale data the linter needs: prohibited phrases and the opening's required wording."""

    prohibited: tuple[ProhibitedRule, ...]
    ai: tuple[re.Pattern[str], ...]
    synthetic_voice: tuple[re.Pattern[str], ...]
    company_slots: frozenset[str]
    opt_out_voice: tuple[re.Pattern[str], ...]
    opt_out_key: tuple[str, ...]
    account_literals: tuple[re.Pattern[str], ...]
    retention_pitch: tuple[re.Pattern[str], ...]

    @classmethod
    def load(cls, prompts_dir: Path, locale: str) -> LintRules:
        """Read prompts/<locale>/prohibited.yaml and prompts/<locale>/lint.yaml."""
        data = yaml.safe_load((prompts_dir / locale / "lint.yaml").read_text(encoding="utf-8")) or {}
        opening = data.get("disclosure") or {}

        def rx(items: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
            return tuple(re.compile(str(p), re.I) for p in items or ())

        return cls(
            prohibited=load_prohibited(prompts_dir, locale),
            ai=rx(opening.get("ai")),
            synthetic_voice=rx(opening.get("synthetic_voice")),
            company_slots=frozenset(opening.get("company_slots") or ("company_name",)),
            opt_out_voice=rx(opening.get("opt_out_voice")),
            opt_out_key=tuple(str(p) for p in opening.get("opt_out_key") or ()),
            account_literals=rx(data.get("account_literals")),
            retention_pitch=rx(data.get("retention_pitch")),
        )


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


_DATA_FILES = frozenset({"prohibited.yaml", "lint.yaml"})

# -- mapping load-time problems to rule ids ------------------------------------------------

_ISSUE_RULES: tuple[tuple[str, str, str], ...] = (
    ("not valid YAML", "yaml-syntax", "Correct the YAML syntax at this line."),
    ("opt_out cannot be overridden", "opt-out-overridden", "Remove `opt_out` from this state's `expect`."),
    ("is the opt-out key in every state", "opt-out-overridden", "Use a key other than the opt-out key here."),
    ("is not declared under slots", "undefined-slot", "Declare the slot under `slots:` or fix its name."),
    ("comes from the customer", "undefined-slot", "List the captured slot under this state's `needs`."),
    (
        "must carry the AI disclosure",
        "disclosure-missing",
        "Give the start state a `disclosure:` that says this is an AI and names the company.",
    ),
    ("only the start state carries", "disclosure-missing", "Move the disclosure into the start state."),
    ("is not a state", "unknown-state", "Point this at a state defined under `states:`."),
    ("is not defined under states", "unknown-state", "Name a defined state as `start`."),
    ("is already defined in", "duplicate-script", "Give each script its own use_case and locale."),
)


def _from_issue(issue: ScriptIssue) -> Finding:
    """A loader/model problem as a lint finding with the matching rule id."""
    rule, fix = next(
        ((r, f) for needle, r, f in _ISSUE_RULES if needle in issue.message),
        ("script-invalid", "Correct this entry as the message says."),
    )
    message = f"{issue.where}: {issue.message}" if issue.where else issue.message
    return Finding(issue.file, issue.line, rule, message.rstrip("."), fix)


# -- the state graph -----------------------------------------------------------------------


def _handler_targets(handler: Handler | None) -> list[str]:
    return [handler.goto] if handler is not None and handler.goto else []


def _edges(script: Script, *, own_only: bool = False) -> dict[str, set[str]]:
    """State -> states the call can move to; `own_only` leaves out the global safety nets."""
    glob = script.globals
    global_targets: set[str] = set()
    if not own_only:
        for name in (
            "ask_who_is_calling",
            "complaint",
            "request_human",
            "unknown",
            "no_input",
            "max_duration",
        ):
            global_targets.update(_handler_targets(getattr(glob, name)))
    edges: dict[str, set[str]] = {}
    for name, state in script.states.items():
        out: set[str] = set(state.needs.values())
        if state.end is None:
            out.update(state.expect.values())
            out.update(state.expect[i] for i in state.dtmf.values() if i in state.expect)
            for handler in (state.fallback, state.no_input):
                out.update(_handler_targets(handler))
            out.update(global_targets)
        edges[name] = out
    return edges


def _reachable(edges: Mapping[str, set[str]], start: str, stop: frozenset[str] = frozenset()) -> set[str]:
    """States reachable from `start`, not expanding past states in `stop`."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node in stop:
            continue
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _state_templates(script: Script, name: str) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(yaml path, template) for every sentence a state says."""
    for field, index, text in script.states[name].templates():
        head, _, tail = field.partition(".")
        yield (("states", name, head, tail, index) if tail else ("states", name, head, index)), text


def _global_templates(script: Script) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """(handler, yaml path, template) for every global handler sentence."""
    for gname in type(script.globals).model_fields:
        for index, text in enumerate(getattr(script.globals, gname).say):
            yield gname, ("global", gname, "say", index), text


def _slots_in(text: str) -> tuple[str, ...]:
    try:
        return template_slots(text)
    except RenderError:
        return ()


# -- the checks ----------------------------------------------------------------------------


def _check_opening(script: Script, rules: LintRules, at: Any) -> Iterator[Finding]:
    """The start state's disclosure: AI, (zh-CN) synthetic voice, company, opt-out by voice and key."""
    start = script.start
    texts = script.states[start].disclosure
    line = at("states", start, "disclosure")
    joined = " ".join(texts)
    if not texts or not any(p.search(joined) for p in rules.ai):
        yield Finding(
            script.source or "",
            line or at("states", start),
            "disclosure-missing",
            "the opening does not say that the caller is an AI",
            "Start the disclosure by saying this is an automated AI assistant.",
        )
    if rules.synthetic_voice and not any(p.search(joined) for p in rules.synthetic_voice):
        yield Finding(
            script.source or "",
            line,
            "disclosure-missing",
            "the opening does not say that the voice is synthesised",
            "Say in the disclosure that the voice is computer-generated (合成语音).",
        )
    if not any(set(_slots_in(t)) & rules.company_slots for t in texts):
        yield Finding(
            script.source or "",
            line,
            "disclosure-missing",
            "the opening does not name the company",
            "Name the company in the disclosure with {company_name}.",
        )
    if not any(p.search(joined) for p in rules.opt_out_voice):
        yield Finding(
            script.source or "",
            line,
            "opt-out-instruction-missing",
            "the opening does not tell the customer how to stop the calls by voice",
            "Add a sentence such as 'say stop calling or press 9' to the disclosure.",
        )
    key = re.escape(script.opt_out_key)
    if not any(re.search(p.replace("{key}", key), joined, re.I) for p in rules.opt_out_key):
        yield Finding(
            script.source or "",
            line,
            "opt-out-instruction-missing",
            f"the opening does not say that pressing {script.opt_out_key} stops the calls",
            f"Tell the customer in the disclosure to press {script.opt_out_key} to stop the calls.",
        )


def _check_opt_out(script: Script, rules: LintRules, at: Any) -> Iterator[Finding]:
    """The opt-out confirmation is one plain sentence, and no state rebinds its key."""
    file = script.source or ""
    text = script.globals.opt_out.say[0]
    if any(p.search(text) for p in rules.retention_pitch):
        yield Finding(
            file,
            at("global", "opt_out", "say"),
            "opt-out-retention",
            "the opt-out confirmation asks a question or tries to keep the customer",
            "Confirm the opt-out in one plain sentence and say goodbye.",
        )
    for name, state in script.states.items():
        if "opt_out" in state.expect or state.dtmf.get(script.opt_out_key, "opt_out") != "opt_out":
            yield Finding(
                file,
                at("states", name, "expect"),
                "opt-out-overridden",
                f"state {name!r} overrides the opt-out handler",
                "Remove the state's own opt-out handling; the global opt-out always applies.",
            )


def _check_ai_answer(script: Script, rules: LintRules, at: Any) -> Iterator[Finding]:
    """Asked whether it is an AI, the agent says so."""
    joined = " ".join(script.globals.ask_is_ai.say)
    if rules.ai and not any(p.search(joined) for p in rules.ai):
        yield Finding(
            script.source or "",
            at("global", "ask_is_ai", "say"),
            "ai-answer-untruthful",
            "the answer to 'are you a robot' does not say that this is an AI",
            "Answer ask_is_ai truthfully: say this is an AI assistant with a generated voice.",
        )


def _check_identity(
    script: Script, rules: LintRules, at: Any, edges: Mapping[str, set[str]]
) -> Iterator[Finding]:
    """No account detail in any state (or global handler) reachable before the right party is confirmed."""
    file = script.source or ""
    confirming = frozenset(n for n, s in script.states.items() if s.confirms_right_party)
    before = _reachable(edges, script.start, confirming) - confirming
    account = script.account_slots
    fix = "Move account details to a state after a `confirms_right_party: true` state."
    for name in sorted(before, key=lambda n: at("states", n) or 0):
        if script.states[name].reveals_account_details:
            yield Finding(
                file,
                at("states", name),
                "account-detail-before-identity",
                f"state {name!r} reveals account details and can be reached before identity is confirmed",
                fix,
            )
            continue
        for path, text in _state_templates(script, name):
            used = sorted(set(_slots_in(text)) & account)
            literal = next((p for p in rules.account_literals if p.search(text)), None)
            if used or literal is not None:
                what = f"slot {{{used[0]}}}" if used else "a literal amount"
                yield Finding(
                    file,
                    at(*path),
                    "account-detail-before-identity",
                    f"state {name!r} says {what}, reachable before the right party is confirmed",
                    fix,
                )
    for gname, path, text in _global_templates(script):
        used = sorted(set(_slots_in(text)) & account)
        if used and before:
            yield Finding(
                file,
                at(*path),
                "account-detail-before-identity",
                f"global handler {gname!r} says {{{used[0]}}} and can run before identity is confirmed",
                "Keep account details out of global handlers; say them in a state after confirmation.",
            )


def _check_graph(script: Script, at: Any, edges: Mapping[str, set[str]]) -> Iterator[Finding]:
    """Every state reachable from the start, and every state with a path to an end of its own."""
    file = script.source or ""
    reachable = _reachable(edges, script.start)
    for name in script.states:
        if name not in reachable:
            yield Finding(
                file,
                at("states", name),
                "unreachable-state",
                f"state {name!r} cannot be reached from {script.start!r}",
                "Point an `expect`, `needs` or handler `goto` at it, or delete it.",
            )
    own = _edges(script, own_only=True)
    ends = {n for n, s in script.states.items() if s.end is not None}
    for name, state in script.states.items():
        if state.end is not None or name not in reachable:
            continue
        if not _reachable(own, name) & ends and not _ends_locally(state):
            yield Finding(
                file,
                at("states", name),
                "dead-end-state",
                f"state {name!r} has no path to an `end:` state through its own answers",
                "Route at least one expected answer towards a closing state with `end:`.",
            )


def _ends_locally(state: Any) -> bool:
    return any(h is not None and h.end is not None for h in (state.fallback, state.no_input))


def _check_prohibited(script: Script, rules: LintRules, at: Any) -> Iterator[Finding]:
    """No sentence contains a prohibited phrase (per-locale list shared with the runtime guard)."""
    items = [(path, text) for name in script.states for path, text in _state_templates(script, name)]
    items += [(path, text) for _, path, text in _global_templates(script)]
    for path, text in items:
        hit = find_prohibited(text, rules.prohibited)
        if hit is not None:
            yield Finding(
                script.source or "",
                at(*path),
                "prohibited-phrase",
                f"{hit[0]}: {hit[1]!r} is prohibited content",
                "Rephrase the sentence without threats, impersonation or pressure.",
            )


def lint_script(script: Script, prompts_dir: Path | None = None) -> list[Finding]:
    """Every finding for a loaded script."""
    rules = rules_for(prompts_dir or _prompts_for(script.source), script.meta.locale)

    def at(*path: str | int) -> int | None:
        return script.line_of(*path)

    edges = _edges(script)
    findings = [
        *_check_opening(script, rules, at),
        *_check_opt_out(script, rules, at),
        *_check_ai_answer(script, rules, at),
        *_check_identity(script, rules, at, edges),
        *_check_graph(script, at, edges),
        *_check_prohibited(script, rules, at),
        *check_confirm(script, prompts_dir or _prompts_for(script.source), at),
    ]
    return findings


def _prompts_for(source: str | None) -> Path:
    """prompts/ above a script at prompts/<locale>/<name>.yaml, else the shipped prompts/."""
    if source:
        candidate = Path(source).resolve().parent.parent
        if any((candidate / loc / "prohibited.yaml").exists() for loc in ("en-US", "zh-CN")):
            return candidate
    return DEFAULT_PROMPTS


def _raw_prohibited(text: str, file: str, prompts_dir: Path) -> list[Finding]:
    """Prohibited phrases in a script the model rejected: scan every string it would say."""
    try:
        data, lines = read_yaml(text, file)
    except ScriptError:
        return []
    locale = (data.get("meta") or {}).get("locale") if isinstance(data, dict) else None
    if locale not in ("en-US", "zh-CN"):
        return []
    rules = rules_for(prompts_dir, str(locale))
    out: list[Finding] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))
        elif (
            isinstance(node, str)
            and path[:1] in (("states",), ("global",))
            and any(p in ("say", "disclosure", "ask") for p in path)
        ):
            hit = find_prohibited(node, rules.prohibited)
            if hit is not None:
                out.append(
                    Finding(
                        file,
                        lines.get(path),
                        "prohibited-phrase",
                        f"{hit[0]}: {hit[1]!r} is prohibited content",
                        "Rephrase the sentence without threats, impersonation or pressure.",
                    )
                )

    walk(data, ())
    return out


def lint_text(text: str, file: str = "<string>", prompts_dir: Path | None = None) -> list[Finding]:
    """Lint one script given as YAML text."""
    folder = prompts_dir or _prompts_for(file)
    try:
        script = load_script_text(text, file)
    except ScriptError as exc:
        found = [_from_issue(issue) for issue in exc.issues]
        return found + _raw_prohibited(text, file, folder)
    return lint_script(script, folder)


def lint_file(path: str | Path, prompts_dir: Path | None = None) -> list[Finding]:
    """Lint one script file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return [
            Finding(
                str(path),
                None,
                "script-invalid",
                f"cannot read the file: {exc.strerror}",
                "Check the path and permissions.",
            )
        ]
    return lint_text(text, str(path), prompts_dir)


def is_script_file(path: Path) -> bool:
    """Scripts are the YAML files whose top level has `meta:` (lexicons and word lists are not)."""
    try:
        return re.search(r"^meta\s*:", path.read_text(encoding="utf-8"), re.M) is not None
    except OSError:
        return False


def find_scripts(paths: Iterable[str | Path]) -> list[Path]:
    """Script files named directly or found under folders."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*.y*ml")) if is_script_file(p))
        else:
            out.append(path)
    return out


def lint_paths(paths: Iterable[str | Path], prompts_dir: Path | None = None) -> list[Finding]:
    """Lint every script under the paths, plus one script per (use case, locale)."""
    findings: list[Finding] = []
    owners: dict[tuple[str, str], str] = {}
    for path in find_scripts(paths):
        findings.extend(lint_file(path, prompts_dir))
        try:
            data, lines = read_yaml(path.read_text(encoding="utf-8"), str(path))
            meta = data.get("meta") or {}
            key = (str(meta.get("use_case")), str(meta.get("locale")))
        except (ScriptError, OSError, AttributeError):
            continue
        if key in owners:
            findings.append(
                Finding(
                    str(path),
                    lines.get(("meta", "use_case")),
                    "duplicate-script",
                    f"{key[0]} / {key[1]} is already defined in {owners[key]}",
                    "Give each script its own use_case and locale.",
                )
            )
        owners.setdefault(key, str(path))
    return findings
