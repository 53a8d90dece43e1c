"""Never like a fraudster (SPEC 7.9): the guard and the linter refuse what impersonators ask for.

Refusals are generated from requests x secrets (and payment detours), in both locales, and each
must be refused by the runtime guard (`fraud_like_request`) and by the script linter
(`fraud-like-request`). Harmless lookalikes ("we will never ask for your PIN", "the last four
digits of your card", "pin down a date") must pass both.

Decision: "you can reset your password in the app yourself" is REFUSED. The seed's fraudsters
open with "reset your password"; a repayment or limit call has no servicing reason to talk about
passwords or codes at all, and a customer cannot tell a helpful mention from the scam's first
step. The only credential talk a script may have is the assurance that the lender never asks.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from agent.compliance.guard import check, load_prohibited
from agent.dialogue.linter import lint_text

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
EN = load_prohibited(PROMPTS, "en-US")
ZH = load_prohibited(PROMPTS, "zh-CN")
EN_SCRIPT = PROMPTS / "en-US" / "repayment_reminder.yaml"
ZH_SCRIPT = PROMPTS / "zh-CN" / "repayment_reminder.yaml"

EN_ASKS = ["Please tell me", "Can you confirm", "Read me", "Could you provide", "I just need", "Please enter"]
EN_SECRETS = [
    "your PIN",
    "your online banking password",
    "the one-time code we just sent you",
    "the verification code in your text message",
    "your SMS code",
    "the security code on the back of your card",
    "your full card number",
    "your account number",
    "your Social Security number",
    "your passcode",
]
EN_WHY = ["", " so we can verify your identity", " to handle your overdue account"]
EN_DETOURS = [
    "Please transfer the balance to a safe account today.",
    "Move your money into a new secure account before midnight.",
    "You can pay the whole amount with gift cards from any store.",
    "We accept payment in Bitcoin for overdue accounts.",
    "Send the payment by Western Union to settle this now.",
    "Install AnyDesk so I can help you pay.",
    "Tap the link we texted you to pay.",
    "Withdraw cash and hand it to our courier.",
    "Please make a test transaction of one dollar first.",
    "Wire the money to my personal account.",
    "Please reset your password using the link we sent.",
    "You can reset your password in the app yourself.",
]
EN_HARMLESS = [
    "We will never ask for your PIN, password or one-time codes.",
    "Acme Finance will never ask you for your full card number.",
    "Please don't share your PIN or any code with anyone, not even us.",
    "Never share your one-time code with anyone.",
    "To confirm it's you, please tell me the last four digits of your card number.",
    "You can verify this call by calling the number on the back of your card.",
    "You can pay in our official app or on our website.",
    "Can we pin down a date for the payment?",
    "Your account is safe with us, and your payment of $120 is due on March 5.",
    "Your account ending in 4321 is up to date.",
    "If you have questions about your account, call us at our official number.",
    "Thank you. I've noted that you plan to pay on Friday.",
]

ZH_ASKS = ["请提供", "请告诉我", "麻烦报一下", "请您输入", "请念一下"]
ZH_SECRETS = [
    "您的银行卡密码",
    "支付密码",
    "刚才收到的短信验证码",
    "动态码",
    "完整卡号",
    "银行卡号",
    "身份证号码",
]
ZH_WHY = ["。", "，以便核实身份。", "，我们帮您处理逾期账户。"]
ZH_DETOURS = [
    "请把钱转到我们的安全账户。",
    "请将还款转账到个人账户。",
    "请直接转账给专员。",
    "请下载腾讯会议并开启屏幕共享。",
    "请点击短信里的链接还款。",
    "您需要先交一笔保证金才能解冻。",
    "可以用礼品卡还款。",
    "您的身份证号是多少？",
    "您需要重置一下登录密码。",
    "您可以在App里自己重置密码。",
    "我们需要做一次资金核查。",
]
ZH_HARMLESS = [
    "我们不会向您索要密码或验证码。",
    "请勿将验证码告诉任何人，包括我们。",
    "工作人员绝不会要求您转账到个人账户。",
    "为确认身份，请告诉我银行卡号后四位。",
    "您可以在官方App内还款。",
    "如需核实本次来电，您可以拨打官方客服电话。",
    "您尾号1234的银行卡已还款成功。",
    "谢谢您，我已经记下您计划在周五还款。",
]


def _en_requests() -> list[str]:
    return [f"{a} {s}{w}." for a, s, w in itertools.product(EN_ASKS, EN_SECRETS, EN_WHY)]


def _zh_requests() -> list[str]:
    return [f"{a}{s}{w}" for a, s, w in itertools.product(ZH_ASKS, ZH_SECRETS, ZH_WHY)]


def _guard(text: str, rules: tuple[object, ...]) -> str | None:
    verdict = check(text, prohibited=rules, slots={}, right_party_confirmed=True)  # type: ignore[arg-type]
    return None if verdict.ok else verdict.rule


@pytest.mark.parametrize(
    ("texts", "rules"), [(_en_requests() + EN_DETOURS, EN), (_zh_requests() + ZH_DETOURS, ZH)]
)
def test_guard_refuses_every_generated_request(texts: list[str], rules: tuple[object, ...]) -> None:
    passed = [t for t in texts if _guard(t, rules) != "fraud_like_request"]
    assert not passed, passed
    assert len(texts) > 90  # the combinations really were generated


@pytest.mark.parametrize(("texts", "rules"), [(EN_HARMLESS, EN), (ZH_HARMLESS, ZH)])
def test_guard_lets_harmless_lookalikes_through(texts: list[str], rules: tuple[object, ...]) -> None:
    refused = [(t, _guard(t, rules)) for t in texts if _guard(t, rules) is not None]
    assert not refused, refused


def test_assurance_does_not_excuse_a_request_in_the_same_sentence() -> None:
    assert (
        _guard("We will never ask for your PIN, but please tell me your PIN now.", EN) == "fraud_like_request"
    )
    assert _guard("我们不会向您索要密码，但请告诉我您的支付密码。", ZH) == "fraud_like_request"


def _in_script(path: Path, sentence: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    old = "Thank you for your time. Goodbye." if "en-US" in str(path) else "感谢您的时间，再见。"
    assert old in text
    found = lint_text(text.replace(old, sentence, 1), str(path), PROMPTS)
    # a new zh sentence may also lack a reviewed reading: that rule has its own tests
    return sorted({f.rule for f in found if f.rule != "pronunciation-unknown"})


@pytest.mark.parametrize(
    ("path", "sentence"),
    [(EN_SCRIPT, t) for t in _en_requests()[::7] + EN_DETOURS[::3]]
    + [(ZH_SCRIPT, t) for t in _zh_requests()[::7] + ZH_DETOURS[::3]],
)
def test_linter_refuses_fraud_like_sentences(path: Path, sentence: str) -> None:
    assert _in_script(path, sentence) == ["fraud-like-request"]


@pytest.mark.parametrize(
    ("path", "sentence"),
    [(EN_SCRIPT, t) for t in EN_HARMLESS[:4]] + [(ZH_SCRIPT, t) for t in ZH_HARMLESS[:3]],
)
def test_linter_accepts_never_ask_assurances(path: Path, sentence: str) -> None:
    assert _in_script(path, sentence) == []
