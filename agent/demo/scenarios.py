"""Demo scenarios: what the simulated customer says or presses, and when, per locale.

A step waits for the agent's next utterance, then either lets it finish and answers after
a short pause, or cuts in `barge_after_ms` after the agent starts (a barge-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """One customer action."""

    say: str | None = None  # what the customer says
    dtmf: str | None = None  # or a key the customer presses
    barge_after_ms: int | None = None  # interrupt the agent this long after it starts speaking
    pause_ms: int = 500  # reaction time after the agent stops


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named customer behaviour and the outcome the call must reach."""

    name: str
    steps: tuple[Step, ...]
    expected_outcome: str
    description: str


SLOTS_EN = {
    "customer_name": "John Smith",
    "company_name": "Acme Finance",
    "amount_due": "1234.50",
    "callback_number": "18005550123",
}

SCENARIOS_EN: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "happy_path",
            (Step("Yes, this is John."), Step("Yes, I can pay it on Friday.")),
            "promise_to_pay",
            "right party confirmed, reminder heard, promise to pay on a date",
        ),
        Scenario(
            "opt_out",
            (Step("Please stop calling me."),),
            "opted_out",
            "the customer opts out by voice right after the disclosure",
        ),
        Scenario(
            "ask_is_ai",
            (Step("Wait, am I talking to a robot?"), Step("Yes, this is John."),
             Step("Yes, I can pay it on Friday.")),
            "promise_to_pay",
            "the customer asks whether the caller is an AI and gets a truthful answer",
        ),
        Scenario(
            "wrong_person",
            (Step("No, you have the wrong number."),),
            "wrong_person",
            "someone else answers: no account details, a callback request only",
        ),
        Scenario(
            "barge_in",
            (Step("Yes, speaking."), Step("I already paid it last week.", barge_after_ms=1500)),
            "already_paid",
            "the customer interrupts the reminder; the agent stops at once",
        ),
        Scenario(
            "silence",
            (),
            "no_response",
            "nobody speaks: two reprompts, then a polite close",
        ),
        Scenario(
            "dtmf_opt_out",
            (Step(dtmf="9", barge_after_ms=2500),),
            "opted_out",
            "the customer presses 9 during the disclosure",
        ),
    )
}

SLOTS_ZH = {
    "customer_name": "张伟",
    "company_name": "安心金融",
    "amount_due": "1234.50",
    "callback_number": "4008001234",
}

# Customer lines chosen so that espeak-ng's Mandarin voice, heard by whisper base, still
# carries the words the zh-CN rules need (checked by round trip; see the report of issue 3).
SCENARIOS_ZH: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "happy_path",
            (Step("对，是我。"), Step("明天还款。")),
            "promise_to_pay",
            "本人确认，听到提醒，承诺在某一天还款",
        ),
        Scenario(
            "opt_out",
            (Step("不要再给我打电话了。"),),
            "opted_out",
            "客户在身份告知后立即用语音要求不再来电",
        ),
        Scenario(
            "ask_is_ai",
            (Step("这是机器人吧？"), Step("对，是我。"), Step("明天还款。")),
            "promise_to_pay",
            "客户询问是不是机器人，得到如实回答",
        ),
        Scenario(
            "wrong_person",
            (Step("你打错了，我不认识他。"),),
            "wrong_person",
            "非本人接听：不说任何账户信息，只请其转告回电",
        ),
        Scenario(
            "barge_in",
            (Step("对，是我。"), Step("我已经还款了。", barge_after_ms=1500)),
            "already_paid",
            "客户打断提醒；机器人立即停止说话",
        ),
        Scenario(
            "silence",
            (),
            "no_response",
            "无人说话：两次重复提示后礼貌结束",
        ),
        Scenario(
            "dtmf_opt_out",
            (Step(dtmf="9", barge_after_ms=2500),),
            "opted_out",
            "客户在身份告知过程中按9",
        ),
    )
}

DUE_IN_DAYS = 3  # the demo customer's instalment falls due this many days after the call


def demo_slots(locale: str, today: date) -> dict[str, str]:
    """The demo customer's slots for a call placed on `today` (the caller's date): the due date is
    always a few days ahead, so the reminder never names a date already past."""
    base = {"en-US": SLOTS_EN, "zh-CN": SLOTS_ZH}[locale]
    return {**base, "due_date": (today + timedelta(days=DUE_IN_DAYS)).isoformat()}


SCENARIOS = {"en-US": SCENARIOS_EN, "zh-CN": SCENARIOS_ZH}
