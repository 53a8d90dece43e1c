"""The script linter: shipped scripts pass; each broken variant is caught with the right rule id."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.dialogue.linter import lint_paths, lint_text
from agent.dialogue.registry import ScriptRegistry

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
EN = PROMPTS / "en-US" / "repayment_reminder.yaml"
ZH = PROMPTS / "zh-CN" / "repayment_reminder.yaml"
EN_CREDIT = PROMPTS / "en-US" / "credit_limit_notice.yaml"
ZH_CREDIT = PROMPTS / "zh-CN" / "credit_limit_notice.yaml"
SHIPPED = [EN, ZH, EN_CREDIT, ZH_CREDIT]


def _variant(path: Path, old: str, new: str) -> tuple[str, str]:
    """The script's text with one edit (the edit must apply), and its file name."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1), str(path)


def _rules(text: str, file: str) -> dict[str, list[int | None]]:
    found: dict[str, list[int | None]] = {}
    for finding in lint_text(text, file, PROMPTS):
        assert finding.fix and finding.message
        found.setdefault(finding.rule, []).append(finding.line)
    return found


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_scripts_are_clean(path: Path) -> None:
    assert lint_paths([path], PROMPTS) == []


def test_lint_cli_passes_on_prompts() -> None:
    result = CliRunner().invoke(app, ["lint", str(PROMPTS)])
    assert result.exit_code == 0, result.output
    assert "4 script(s) checked, 0 error(s)" in result.output


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_disclosure(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # Replace the whole disclosure with a plain greeting (the model still needs one in the start state).
    start = text.index("    disclosure:\n")
    end = text.index("    say:", start)
    hello = "Hello there." if "en-US" in str(path) else "您好。"
    broken = text[:start] + f"    disclosure:\n      - {hello}\n" + text[end:]
    rules = _rules(broken, str(path))
    assert "disclosure-missing" in rules
    assert "opt-out-instruction-missing" in rules


@pytest.mark.parametrize("path", [EN, ZH], ids=["en", "zh"])
def test_no_disclosure_at_all_is_reported_with_line(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken = text.replace("    disclosure:\n", "    spoken_first:\n", 1).replace("spoken_first", "say", 1)
    broken = broken.replace("    say: 请问", "    ask: 请问").replace("    say: Am I", "    ask: Am I")
    rules = _rules(broken, str(path))
    assert "disclosure-missing" in rules
    assert rules["disclosure-missing"][0] is not None


def test_zh_disclosure_needs_synthetic_voice() -> None:
    broken, file = _variant(ZH, "，本次通话使用的是合成语音", "")
    assert "disclosure-missing" in _rules(broken, file)


def test_opt_out_key_instruction_missing() -> None:
    broken, file = _variant(EN, "say stop calling or press 9 at any time", "say stop calling at any time")
    rules = _rules(broken, file)
    assert list(rules) == ["opt-out-instruction-missing"]


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        (
            EN,
            "      already_paid: paid_close\n      dispute: dispute_close\n"
            "      callback_later: callback_close\n      wrong_person: wrong_person\n",
            "      already_paid: paid_close\n      dispute: dispute_close\n"
            "      callback_later: callback_close\n      wrong_person: wrong_person\n"
            "      opt_out: reminder\n",
        ),
        (
            ZH,
            "    dtmf:\n      1: affirm\n      2: deny\n    hint: [可以",
            "    dtmf:\n      1: affirm\n      2: deny\n      9: affirm\n    hint: [可以",
        ),
    ],
    ids=["expect", "dtmf"],
)
def test_opt_out_overridden_in_one_state(path: Path, old: str, new: str) -> None:
    broken, file = _variant(path, old, new)
    rules = _rules(broken, file)
    assert "opt-out-overridden" in rules
    line = rules["opt-out-overridden"][0]
    assert line is not None and line > _line_of(broken, "  reminder:")


def test_amount_before_identity_check() -> None:
    broken, file = _variant(
        EN,
        "    say: Am I speaking with {customer_name}?",
        "    say: Am I speaking with {customer_name}? You owe {amount_due}.",
    )
    rules = _rules(broken, file)
    assert list(rules) == ["account-detail-before-identity"]
    assert rules["account-detail-before-identity"] == [_line_of(broken, "You owe")]


def test_amount_in_wrong_person_state() -> None:
    broken, file = _variant(
        ZH, "如果您认识{customer_name}，", "{customer_name}欠款{amount_due}，如果您认识TA，"
    )
    assert "account-detail-before-identity" in _rules(broken, file)


def test_identity_state_removed_leaks_details() -> None:
    broken, file = _variant(
        EN_CREDIT, "  limit_raised:\n    confirms_right_party: true\n", "  limit_raised:\n"
    )
    broken = broken.replace(
        "      affirm: notice\n", "      affirm: notice\n      ask_is_ai: limit_raised\n", 1
    )
    assert "account-detail-before-identity" in _rules(broken, file)


def test_literal_amount_before_identity() -> None:
    broken, file = _variant(
        ZH_CREDIT,
        "    say: 请问您是{customer_name}本人吗？",
        "    say: 您有¥20000额度，请问您是{customer_name}本人吗？",
    )
    assert "account-detail-before-identity" in _rules(broken, file)


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        (EN, "Thank you for your time. Goodbye.", "Pay now or we will call the police. Goodbye."),
        (EN_CREDIT, "Our team will be glad to help.", "Pay now or we will tell your employer."),
        (ZH, "感谢您的时间，再见。", "否则后果自负。再见。"),
        (ZH_CREDIT, "感谢您的时间。", "不还就爆通讯录。"),
    ],
    ids=["en-police", "en-employer", "zh-后果自负", "zh-爆通讯录"],
)
def test_threat_phrase_in_each_locale(path: Path, old: str, new: str) -> None:
    broken, file = _variant(path, old, new)
    rules = _rules(broken, file)
    assert list(rules) == ["prohibited-phrase"]
    assert rules["prohibited-phrase"] == [_line_of(broken, new.split("。")[0].split(".")[0])]


def test_undefined_slot() -> None:
    broken, file = _variant(
        EN, "Am I speaking with {customer_name}?", "Am I speaking with {customer_fullname}?"
    )
    rules = _rules(broken, file)
    assert "undefined-slot" in rules
    assert rules["undefined-slot"] == [_line_of(broken, "{customer_fullname}")]


def test_undefined_slot_zh_still_scanned_for_threats() -> None:
    broken, file = _variant(ZH, "请问您是{customer_name}本人吗？", "请问您是{姓名}本人吗？你这个老赖")
    rules = _rules(broken, file)
    assert "prohibited-phrase" in rules


def test_dead_end_state() -> None:
    broken, file = _variant(
        EN,
        "    expect:\n      promise_to_pay: confirm_promise\n      affirm: ask_date\n"
        "      deny: refused_close\n      hardship: hardship_close\n      already_paid: paid_close\n"
        "      dispute: dispute_close\n      callback_later: callback_close\n"
        "    hint: [Friday, next week, the fifteenth, end of the month]\n"
        "    complete_answers: [promise_to_pay]\n",
        "    expect:\n      promise_to_pay: ask_date\n      affirm: ask_date\n"
        "    hint: [Friday, next week, the fifteenth, end of the month]\n"
        "    complete_answers: [promise_to_pay]\n",
    )
    rules = _rules(broken, file)
    assert list(rules) == ["dead-end-state"]
    assert rules["dead-end-state"] == [_line_of(broken, "  ask_date:")]


def test_unreachable_state() -> None:
    broken, file = _variant(
        ZH,
        "      callback_later: callback_close\n    dtmf:\n      1: affirm\n      2: deny\n    hint: [是的",
        "    dtmf:\n      1: affirm\n      2: deny\n    hint: [是的",
    )
    # callback_close is still reached from reminder; drop those edges too.
    broken = broken.replace("      callback_later: callback_close\n", "")
    rules = _rules(broken, file)
    assert list(rules) == ["unreachable-state"]
    assert rules["unreachable-state"] == [_line_of(broken, "  callback_close:")]


def test_opt_out_confirmation_without_retention_pitch() -> None:
    broken, file = _variant(
        EN,
        "say: Understood. We won't call you again. Goodbye.",
        "say: Are you sure? We have a great offer for you.",
    )
    assert "opt-out-retention" in _rules(broken, file)


def test_ask_is_ai_must_be_truthful() -> None:
    broken, file = _variant(
        ZH, "say: 是的，我是人工智能语音助手，您听到的是合成语音，不是真人。", "say: 我是客服小王。"
    )
    assert "ai-answer-untruthful" in _rules(broken, file)


def test_lint_cli_json_and_exit_status(tmp_path: Path) -> None:
    broken, _ = _variant(
        EN, "Thank you for your time. Goodbye.", "Pay now or we will call the police. Goodbye."
    )
    (tmp_path / "en-US").mkdir()
    target = tmp_path / "en-US" / "bad.yaml"
    target.write_text(broken, encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", str(target), "--format", "json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert [e["rule"] for e in body["errors"]] == ["prohibited-phrase"]
    assert body["errors"][0]["line"] and body["errors"][0]["file"].endswith("bad.yaml")


def test_registry_refuses_and_keeps_old_version(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PROMPTS, prompts)
    registry = ScriptRegistry(prompts)
    assert len(registry.scripts) == 4 and not registry.refused
    path = prompts / "en-US" / "repayment_reminder.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("Thank you for your time. Goodbye.", "or else. Goodbye."), encoding="utf-8")
    os.utime(path, (time.time() + 5, time.time() + 5))
    with caplog.at_level(logging.ERROR):
        assert registry.reload_if_changed() is False
    assert "refused" in caplog.text
    assert str(path) in registry.refused
    served = registry.get("repayment_reminder", "en-US")
    assert served is not None and served.meta.version == "1.0"
    path.write_text(good.replace('version: "1.0"', 'version: "1.1"'), encoding="utf-8")
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert registry.reload_if_changed() is True
    served = registry.get("repayment_reminder", "en-US")
    assert served is not None and served.meta.version == "1.1"
    assert not registry.refused


def test_registry_refuses_bad_script_at_start(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PROMPTS, prompts)
    path = prompts / "zh-CN" / "credit_limit_notice.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("感谢您的时间。", "不还就上门。"), encoding="utf-8"
    )
    registry = ScriptRegistry(prompts)
    assert registry.get("credit_limit_notice", "zh-CN") is None
    assert registry.get("repayment_reminder", "zh-CN") is not None
