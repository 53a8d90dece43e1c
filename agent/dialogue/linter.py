"""The script linter (SPEC 5.3): proves a script's compliance properties over its state graph.

Each finding names file, line, rule id and a one-sentence fix. The rules live in families,
one module each (`agent/dialogue/lint_<topic>.py`, a `check(ctx)` function), listed in
`RULE_FAMILIES` below: add a family with one import and one line there. Scripts the model
rejects are reported as `unknown-state`, `yaml-syntax`, `script-invalid`, ... (the loader's
issues) plus `duplicate-script`. Locale word lists are data: prompts/<locale>/prohibited.yaml
(shared with the runtime guard) and prompts/<locale>/lint.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from agent.dialogue import (
    lint_confirm,
    lint_graph,
    lint_identity,
    lint_opening,
    lint_prohibited,
    lint_pronunciation,
    lint_verification,
    lint_voicemail,
)
from agent.dialogue.lint_base import Finding, LintContext, LintRules, OfficialCheck, RuleFamily, rules_for
from agent.dialogue.loader import ScriptError, ScriptIssue, load_script_text, read_yaml
from agent.dialogue.script import Script

__all__ = [
    "RULE_FAMILIES",
    "Finding",
    "LintRules",
    "OfficialCheck",
    "find_scripts",
    "is_script_file",
    "lint_file",
    "lint_paths",
    "lint_script",
    "lint_text",
]

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

RULE_FAMILIES: tuple[RuleFamily, ...] = (
    lint_opening.check,  # disclosure-missing, opt-out-*, ai-answer-untruthful
    lint_identity.check,  # account-detail-before-identity
    lint_graph.check,  # unreachable-state, dead-end-state
    lint_prohibited.check,  # prohibited-phrase, fraud-like-request
    lint_verification.check,  # callback-number-unofficial, verification-offer-missing
    lint_pronunciation.check,  # pronunciation-unknown (zh-CN)
    lint_confirm.check,  # opt-out-confirm-missing, opt-out-confirm-wording
    lint_voicemail.check,  # voicemail-content (Reg F limited-content message)
)
"""Every rule family run on a loaded script, in reporting order."""


def _from_issue(issue: ScriptIssue) -> Finding:
    """A loader/model problem as a lint finding; the issue carries its own rule id and fix."""
    message = f"{issue.where}: {issue.message}" if issue.where else issue.message
    return Finding(issue.file, issue.line, issue.rule, message.rstrip("."), issue.fix)


# -- entry points ----------------------------------------------------------------------------


def lint_script(
    script: Script, prompts_dir: Path | None = None, *, official: OfficialCheck | None = None
) -> list[Finding]:
    """Every finding for a loaded script; `official` says whether a written number is registered."""
    prompts = prompts_dir or _prompts_for(script.source)
    ctx = LintContext(script, rules_for(prompts, script.meta.locale), prompts, official)
    return [finding for family in RULE_FAMILIES for finding in family(ctx)]


def _prompts_for(source: str | None) -> Path:
    """prompts/ above a script at prompts/<locale>/<name>.yaml, else the shipped prompts/."""
    if source:
        candidate = Path(source).resolve().parent.parent
        if any((candidate / loc / "prohibited.yaml").exists() for loc in ("en-US", "zh-CN")):
            return candidate
    return DEFAULT_PROMPTS


def lint_text(
    text: str,
    file: str = "<string>",
    prompts_dir: Path | None = None,
    *,
    official: OfficialCheck | None = None,
) -> list[Finding]:
    """Lint one script given as YAML text."""
    folder = prompts_dir or _prompts_for(file)
    try:
        script = load_script_text(text, file)
    except ScriptError as exc:
        found = [_from_issue(issue) for issue in exc.issues]
        return found + lint_prohibited.scan_raw(text, file, folder)
    return lint_script(script, folder, official=official)


def lint_file(
    path: str | Path, prompts_dir: Path | None = None, *, official: OfficialCheck | None = None
) -> list[Finding]:
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
    return lint_text(text, str(path), prompts_dir, official=official)


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


def lint_paths(
    paths: Iterable[str | Path], prompts_dir: Path | None = None, *, official: OfficialCheck | None = None
) -> list[Finding]:
    """Lint every script under the paths, plus one script per (use case, locale)."""
    findings: list[Finding] = []
    owners: dict[tuple[str, str], str] = {}
    for path in find_scripts(paths):
        findings.extend(lint_file(path, prompts_dir, official=official))
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
