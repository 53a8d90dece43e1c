"""Lint rules `callback-number-unofficial` and `verification-offer-missing` (SPEC 7.9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.compliance.callback import OfficialNumbers
from agent.dialogue.linter import lint_paths, lint_text

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
EN = PROMPTS / "en-US" / "repayment_reminder.yaml"
ZH = PROMPTS / "zh-CN" / "repayment_reminder.yaml"
EN_CREDIT = PROMPTS / "en-US" / "credit_limit_notice.yaml"
ZH_CREDIT = PROMPTS / "zh-CN" / "credit_limit_notice.yaml"
OFFICIAL = OfficialNumbers.parse(["+1 800 555 0123", "+86 400 800 1234"]).contains
EN_VERIFY = (
    "      - Thank you, {customer_name}. You can check this call is really from {company_name} "
    "by calling the number in our official app.\n"
)
ZH_VERIFY = "      - 谢谢您。如果想确认这通电话是否真实，可以通过{company_name}官方App上的客服电话核实。\n"


def _rules(text: str, file: Path, official: object = OFFICIAL) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in lint_text(text, str(file), PROMPTS, official=official):  # type: ignore[arg-type]
        out[f.rule] = out.get(f.rule, 0) + 1
    return out


@pytest.mark.parametrize("path", [EN, ZH, EN_CREDIT, ZH_CREDIT], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_scripts_offer_verification_and_pass(path: Path) -> None:
    assert lint_paths([path], PROMPTS, official=OFFICIAL) == []
    text = path.read_text(encoding="utf-8")
    assert "this call is really from" in text or "确认这通电话是否真实" in text


@pytest.mark.parametrize(
    ("path", "sentence", "count"),
    [(EN, EN_VERIFY, 1), (ZH, ZH_VERIFY, 1), (EN_CREDIT, EN_VERIFY, 2), (ZH_CREDIT, ZH_VERIFY, 2)],
)
def test_removing_the_offer_is_reported_per_right_party_state(path: Path, sentence: str, count: int) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(sentence) == count
    assert _rules(text.replace(sentence, ""), path) == {"verification-offer-missing": count}


def test_an_offer_in_the_opening_is_enough() -> None:
    text = EN.read_text(encoding="utf-8").replace(EN_VERIFY, "")
    text = text.replace(
        "    say: Am I speaking with {customer_name}?",
        "    say:\n      - You can check this call is genuine on our official app.\n"
        "      - Am I speaking with {customer_name}?",
    )
    assert _rules(text, EN) == {}


def test_an_offer_after_the_account_detail_is_too_late() -> None:
    text = EN.read_text(encoding="utf-8").replace(EN_VERIFY, "")
    text = text.replace(
        "      - Will you be able to make that payment by then?\n",
        "      - Will you be able to make that payment by then?\n"
        + EN_VERIFY.replace("Thank you, {customer_name}. ", ""),
    )
    assert _rules(text, EN) == {"verification-offer-missing": 1}


@pytest.mark.parametrize(
    ("path", "number", "official_ok"),
    [
        (EN, "1-800-555-0123", True),
        (EN, "(800) 555-0199", False),
        (ZH, "400-800-1234", True),
        (ZH, "幺三八一二三四五六七八", False),
        (ZH, "021-6123 4567", False),
    ],
)
def test_numbers_written_into_a_script_must_be_registered(path: Path, number: str, official_ok: bool) -> None:
    text = path.read_text(encoding="utf-8")
    old = "Thank you for your time. Goodbye." if path == EN else "感谢您的时间，再见。"
    broken = text.replace(old, f"Call {number}. Goodbye." if path == EN else f"请拨打{number}。再见。", 1)
    rules = _rules(broken, path)
    assert rules == ({} if official_ok else {"callback-number-unofficial": 1})
    assert _rules(broken, path, official=None) == {"callback-number-unofficial": 1}  # cannot be checked


def test_dates_amounts_and_the_opt_out_key_are_not_phone_numbers() -> None:
    text = EN.read_text(encoding="utf-8").replace(
        "Thank you for your time. Goodbye.", "Your plan runs to 2026-12-01 at 14:40. Goodbye.", 1
    )
    assert "callback-number-unofficial" not in _rules(text, EN)
