"""Lint rule pronunciation-unknown: every polyphonic word of a zh-CN script has a reviewed reading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.dialogue.linter import lint_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def prompts(tmp_path: Path) -> Path:
    dest = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts" / "zh-CN", dest / "zh-CN")
    return dest


@pytest.mark.parametrize("name", ["repayment_reminder", "credit_limit_notice"])
def test_shipped_scripts_resolve_every_polyphone(name: str) -> None:
    findings = lint_file(ROOT / "prompts" / "zh-CN" / f"{name}.yaml")
    assert [f for f in findings if f.rule == "pronunciation-unknown"] == []


def test_an_unreviewed_polyphone_is_refused_with_its_line(prompts: Path) -> None:
    script = prompts / "zh-CN" / "repayment_reminder.yaml"
    text = script.read_text(encoding="utf-8")
    text = text.replace("say: 明白。请问您打算哪一天还上？", "say: 明白。请问您打算哪天还呢？")
    script.write_text(text, encoding="utf-8")
    findings = [f for f in lint_file(script, prompts) if f.rule == "pronunciation-unknown"]
    assert len(findings) == 1
    f = findings[0]
    assert "'还'" in f.message and "pronunciation.yaml" in f.fix
    line = text.splitlines()[f.line - 1] if f.line else ""
    assert "哪天还呢" in line
    lexicon = prompts / "zh-CN" / "pronunciation.yaml"
    lexicon.write_text(lexicon.read_text(encoding="utf-8").replace(
        "words:\n", "words:\n  哪天还: nǎ tiān huán\n", 1), encoding="utf-8")
    assert [f for f in lint_file(script, prompts) if f.rule == "pronunciation-unknown"] == []


def test_a_broken_lexicon_is_a_finding_not_a_crash(prompts: Path) -> None:
    (prompts / "zh-CN" / "pronunciation.yaml").write_text("words:\n  还款: huán\n", encoding="utf-8")
    findings = lint_file(prompts / "zh-CN" / "repayment_reminder.yaml", prompts)
    assert any(f.rule == "pronunciation-unknown" and "one syllable per character" in f.message
               for f in findings)


def test_english_scripts_are_not_checked() -> None:
    findings = lint_file(ROOT / "prompts" / "en-US" / "repayment_reminder.yaml")
    assert not [f for f in findings if f.rule == "pronunciation-unknown"]
