"""Utterance guard: prohibited content per locale and account details before right party (SPEC 7.4, 7.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.compliance.guard import check, load_prohibited

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
EN = load_prohibited(PROMPTS, "en-US")
ZH = load_prohibited(PROMPTS, "zh-CN")
SLOTS = {
    "amount": "1234.50",
    "due_date": "2025-03-15",
    "limit": "5000",
    "card_last4": "4321",
    "customer_name": "Ann Lee",
    "company": "Acme Credit",
}


@pytest.mark.parametrize(
    "text",
    [
        "If you don't pay, the police will arrest you.",
        "You could go to jail for this.",
        "This is the court calling about your account.",
        "We are a law firm acting for Acme.",
        "A lawsuit has been filed against you.",
        "We will tell your employer about this debt.",
        "We'll contact your family about this.",
        "You are a deadbeat.",
        "This will ruin your credit forever.",
        "You should borrow from friends to pay this.",
        "Take out another loan and pay us today.",
        "Pay now or else.",
    ],
)
def test_en_prohibited(text: str) -> None:
    verdict = check(text, prohibited=EN, slots={}, right_party_confirmed=True)
    assert not verdict.ok and verdict.rule == "prohibited_content", text


@pytest.mark.parametrize(
    "text",
    [
        "再不还款我们就报警，公安会上门。",
        "法院已经立案了。",
        "我们会发律师函给你。",
        "我们会通知家人和单位。",
        "爆通讯录。",
        "你会永久上征信，进黑名单。",
        "你就是个老赖。",
        "可以以贷养贷。",
        "后果自负。",
        "我们会联系你的紧急联系人。",
        "坐牢",
        "拘留",
    ],
)
def test_zh_prohibited(text: str) -> None:
    verdict = check(text, prohibited=ZH, slots={}, right_party_confirmed=True)
    assert not verdict.ok and verdict.rule == "prohibited_content", text


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        (
            "Hello, this is an AI assistant calling from Acme Credit. Say stop or press 9 to stop calls.",
            EN,
        ),
        ("Your payment of $1,234.50 is due on March 15th. Of course you can pay online.", EN),
        ("We are calling about your credit limit increase. Is now a good time?", EN),
        ("您好，我是Acme信贷的人工智能客服，声音为合成语音。如不想再接到来电，请说不要再打或按9。", ZH),
        ("您本期应还一千二百三十四元五角，到期日是三月十五日。", ZH),
    ],
)
def test_clean_text_passes(text: str, rules: tuple) -> None:  # type: ignore[type-arg]
    assert check(text, prohibited=rules, slots=SLOTS, right_party_confirmed=True).ok


@pytest.mark.parametrize(
    "text",
    [
        "Your balance is 1234.50.",
        "Your balance is $1,234.50.",
        "You owe one thousand two hundred thirty-four dollars and fifty cents.",
        "The payment is due March 15.",
        "The payment is due on March fifteenth.",
        "It's due 3/15.",
        "Your new limit is 5,000 dollars.",
        "Your new limit is five thousand dollars.",
        "The card ending four three two one.",
        "The card ending 4321.",
        "您本期应还1234.50元。",
        "您本期应还一千二百三十四元五角。",
        "到期日是3月15日。",
        "到期日是三月十五号。",
        "您的额度是五千元。",
        "您的额度是5千。",
    ],
)
def test_account_detail_before_right_party(text: str) -> None:
    verdict = check(text, prohibited=(), slots=SLOTS, right_party_confirmed=False)
    assert not verdict.ok and verdict.rule == "account_detail_before_right_party", text
    assert "1234" not in verdict.detail and "4321" not in verdict.detail
    assert check(text, prohibited=(), slots=SLOTS, right_party_confirmed=True).ok


@pytest.mark.parametrize(
    "text",
    [
        "Hello, may I speak with Ann Lee?",
        "This is Acme Credit. Please call us back at your convenience.",
        "It's due 13/15 of nothing.",  # 3/15 inside 13/15 is not the date
        "Press 9 to stop these calls.",
        "您好，请问是Ann Lee本人吗？",
        "这里是Acme Credit，请您方便时回电。",
    ],
)
def test_no_false_alarm_before_right_party(text: str) -> None:
    assert check(text, prohibited=EN + ZH, slots=SLOTS, right_party_confirmed=False).ok, text


def test_prohibited_wins_over_slots() -> None:
    verdict = check(
        "Pay 1234.50 or we call the police.", prohibited=EN, slots=SLOTS, right_party_confirmed=False
    )
    assert verdict.rule == "prohibited_content"
