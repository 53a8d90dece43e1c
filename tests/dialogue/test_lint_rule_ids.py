"""Load-time problems carry their lint rule id and fix on the issue itself (no matching by wording)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.dialogue.linter import lint_text
from agent.dialogue.loader import ScriptError, load_script_text

ROOT = Path(__file__).resolve().parents[2]
EN = ROOT / "prompts" / "en-US" / "repayment_reminder.yaml"


def _issues(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ScriptError) as err:
        load_script_text(text, "s.yaml")
    return [(i.rule, i.message) for i in err.value.issues]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("start: opening", "start: nowhere", "unknown-state"),
        ("      affirm: reminder\n", "      affirm: remindr\n", "unknown-state"),
        ("Am I speaking with {customer_name}?", "Am I speaking with {full_name}?", "undefined-slot"),
        (
            "    say: Am I speaking with {customer_name}?",
            "    say: Am I speaking on {promise_date}?",
            "undefined-slot",
        ),
        (
            "    dtmf:\n      1: affirm\n",
            "    dtmf:\n      9: affirm\n      1: affirm\n",
            "opt-out-overridden",
        ),
        (
            "      deny: wrong_person\n",
            "      deny: wrong_person\n      opt_out: reminder\n",
            "opt-out-overridden",
        ),
        ("    disclosure:\n", "    disclosure_x:\n", "script-invalid"),
        ("meta:\n", "meta: [\n", "yaml-syntax"),
    ],
)
def test_issue_carries_rule_id(old: str, new: str, rule: str) -> None:
    text = EN.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    rules = [r for r, _ in _issues(broken)]
    assert rule in rules, rules
    findings = lint_text(broken, str(EN))
    assert rule in {f.rule for f in findings}
    assert all(f.fix for f in findings)


def test_start_without_disclosure_is_disclosure_missing() -> None:
    text = EN.read_text(encoding="utf-8")
    start = text.index("    disclosure:\n")
    end = text.index("    say: Am I", start)
    broken = text[:start] + text[end:]
    assert "disclosure-missing" in [r for r, _ in _issues(broken)]
